import Foundation
import WaymarkCodegen
import WaymarkRunner
import WaymarkEval

/// One HTTP request as the dashboard sees it: method, path, query and the headers it reads.
/// Kept free of the HTTP server's types so every page can be tested in-process.
public struct DashboardRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [String: String]
    public var authorization: String?

    public init(method: String = "GET", path: String, query: [String: String] = [:], authorization: String? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.authorization = authorization
    }
}

public struct DashboardResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: String

    static func html(_ body: String, status: Int = 200) -> DashboardResponse {
        DashboardResponse(status: status, contentType: "text/html; charset=utf-8", body: body)
    }

    static func json(_ value: JSON, status: Int = 200) -> DashboardResponse {
        DashboardResponse(status: status, contentType: "application/json", body: value.serialized())
    }

    static func error(_ status: Int, _ message: String, json: Bool) -> DashboardResponse {
        json ? .json(.object([("error", .string(message))]), status: status)
            : .html(HTML.page(title: "Error", body: "<h1>\(status)</h1><p>\(HTML.escape(message))</p>"), status: status)
    }
}

/// The dashboard: instances (listed newest first with filters, and one by one with its
/// timeline and DAG), workflows, `/healthz`, `/metrics`, and every page as JSON under `/api`.
///
/// It reads the same database the servers write; it runs inside `serve` or on its own
/// (`waymark-run dashboard`). Reading is open (bind it to loopback, the default); requests that
/// change anything need `token` as a bearer token, and are refused when no token is set.
public actor Dashboard {
    let store: PostgresStore
    /// Workflows by version, from the bundles given, to draw their DAGs.
    let workflows: [String: BundleWorkflow]
    let token: String?
    let metrics: DashboardMetrics
    /// Inside `serve`: failed attempts and the worker pools.
    let live: LiveRuntime?
    private var drawings: [String: String] = [:]

    public init(store: PostgresStore, bundles: [WorkflowBundle], token: String?, metrics: DashboardMetrics? = nil, live: LiveRuntime? = nil) {
        self.live = live
        self.store = store
        var workflows: [String: BundleWorkflow] = [:]
        for bundle in bundles {
            for workflow in bundle.workflows { workflows[workflow.version] = workflow }
        }
        self.workflows = workflows
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.metrics = metrics ?? DashboardMetrics()
    }

    public func respond(_ request: DashboardRequest) async -> DashboardResponse {
        let parts = request.path.split(separator: "/").map(String.init)
        let api = parts.first == "api"
        let route = api ? Array(parts.dropFirst()) : parts
        do {
            switch (request.method, route.count, route.first) {
            case ("GET", 0, _): return try await instances(request, json: api)
            case ("GET", 1, "instances"): return try await instances(request, json: api)
            case ("GET", 2, "instances"): return try await instance(route[1], json: api)
            case ("POST", 3, "instances") where api && route[2] == "retry": return try await retry(route[1], request)
            case ("POST", 3, "instances") where api && route[2] == "cancel": return try await cancel(route[1], request)
            case ("GET", 1, "workflows"): return try await versions(json: api)
            case ("GET", 1, "throughput"): return try await throughput(request, json: api)
            case ("GET", 1, "healthz") where !api: return await health()
            case ("GET", 1, "metrics") where !api: return try await metricsText()
            default: return .error(404, "no page \(request.method) \(request.path)", json: api)
            }
        } catch {
            return .error(500, "the database could not be read: \(error)", json: api)
        }
    }

    // MARK: Instances

    func instances(_ request: DashboardRequest, json: Bool) async throws -> DashboardResponse {
        var filter = PostgresStore.InstanceFilter()
        filter.workflow = request.query["workflow"].flatMap { $0.isEmpty ? nil : $0 }
        filter.idPrefix = request.query["id"].flatMap { $0.isEmpty ? nil : $0 }
        if let status = request.query["status"], !status.isEmpty {
            guard let parsed = InstanceStatus(rawValue: status) else { return .error(400, "unknown status '\(status)'", json: json) }
            filter.status = parsed
        }
        for (key, keyPath) in [("since", \PostgresStore.InstanceFilter.createdAfter), ("until", \PostgresStore.InstanceFilter.createdBefore)] {
            if let text = request.query[key], !text.isEmpty {
                guard let date = ISO8601DateFormatter().date(from: text) else {
                    return .error(400, "\(key) must be an ISO 8601 time such as 2026-12-03T10:00:00Z", json: json)
                }
                filter[keyPath: keyPath] = date
            }
        }
        var cursor: PostgresStore.Cursor?
        if let after = request.query["after"], !after.isEmpty {
            guard let parsed = PostgresStore.Cursor(after) else { return .error(400, "after is not a page cursor", json: json) }
            cursor = parsed
        }
        let limit = min(max(Int(request.query["limit"] ?? "") ?? 50, 1), 500)
        let rows = try await store.instancesList(filter, after: cursor, limit: limit)
        let next = rows.count == limit ? rows.last?.cursor.description : nil
        if json {
            return .json(.object([
                ("instances", .array(rows.map(Self.summary))), ("next", next.map(JSON.string) ?? .null),
            ]))
        }
        return .html(Pages.instances(rows, request: request, next: next))
    }

    static func summary(_ row: PostgresStore.InstanceSummary) -> JSON {
        .object([
            ("id", .string(row.id)), ("workflow", .string(row.workflow)), ("version", .string(row.version)),
            ("status", .string(row.status.rawValue)), ("created_at", .string(Pages.time(row.createdAt))),
            ("updated_at", .string(Pages.time(row.updatedAt))),
        ])
    }

    func instance(_ id: String, json: Bool) async throws -> DashboardResponse {
        guard let record = try await store.instanceGet(id) else { return .error(404, "no instance \(id)", json: json) }
        let timeline = try await store.instanceTimeline(id)
        let attempts = live?.attempts.attempts(of: id) ?? [:]
        var states: [String: [Int: NodeState]]?
        if let workflow = workflows[record.version] {
            let journal = Dictionary(timeline.map { ($0.sequence, $0.entry) }, uniquingKeysWith: { first, _ in first })
            states = await NodeStates.replay(workflow, input: record.input, journal: journal)
            // A queued instance runs nothing yet: where its replay stops is only where it will resume.
            if record.status == .queued { states = states?.mapValues { $0.filter { $0.value != .running } } }
        }
        if json {
            return .json(.object([
                ("id", .string(record.id)), ("workflow", .string(record.workflow)), ("version", .string(record.version)),
                ("status", .string(record.status.rawValue)), ("input", record.input),
                ("result", record.result.map { ValueCodec.plain(tagged: $0) } ?? .null), ("error", record.error ?? .null),
                ("created_at", .string(Pages.time(record.createdAt))), ("updated_at", .string(Pages.time(record.updatedAt))),
                ("journal", .array(timeline.map { Pages.timelineJSON($0, attempts: attempts[$0.sequence] ?? []) })),
                ("attempts_in_flight", .array(Pages.inFlight(attempts, timeline).map { Pages.attemptsJSON($0.key, $0.value) })),
                ("nodes", states.map(Pages.statesJSON) ?? .null),
            ]))
        }
        let dag = states.map { NodeStates.paint(drawing(record.version), $0) } ?? drawing(record.version)
        return .html(Pages.instance(
            record, timeline: timeline, attempts: attempts, live: live != nil, dag: dag,
            source: workflows[record.version]?.sourceMap ?? []))
    }

    /// The version's DAG as SVG (drawn once per version), or why it cannot be drawn.
    func drawing(_ version: String) -> String {
        if let drawn = drawings[version] { return drawn }
        guard let workflow = workflows[version] else {
            return "<p>No bundle of version \(HTML.escape(String(version.prefix(12)))) was given to this dashboard, so its DAG is not drawn.</p>"
        }
        let drawn: String
        if let program = Graphviz.dotExecutable() {
            do {
                let svg = try Graphviz.render(DotWriter(linked: true).dot([workflow]), format: "svg", program: program)
                // Graphviz writes an XML prologue and doctype; the <svg> element alone goes inline.
                let text = String(decoding: svg, as: UTF8.self)
                drawn = text.range(of: "<svg").map { String(text[$0.lowerBound...]) } ?? text
            } catch {
                drawn = "<p>Graphviz could not draw this DAG: \(HTML.escape(error.description))</p>"
            }
        } else {
            drawn = "<p>Install Graphviz (dot) to see the DAG.</p>"
        }
        drawings[version] = drawn
        return drawn
    }

    /// Why a change is refused: no token configured, or not the token given; nil to go on.
    func refusal(_ request: DashboardRequest) -> DashboardResponse? {
        guard let token else {
            return .error(403, "changes through the dashboard are disabled: set WAYMARK_WEBAPP_TOKEN", json: true)
        }
        guard let given = request.authorization, Self.constantTimeEqual(given, "Bearer \(token)") else {
            return .error(401, "a change needs the dashboard's token: Authorization: Bearer <WAYMARK_WEBAPP_TOKEN>", json: true)
        }
        return nil
    }

    func retry(_ id: String, _ request: DashboardRequest) async throws -> DashboardResponse {
        if let refused = refusal(request) { return refused }
        guard try await store.instanceRetry(id) else { return .error(409, "instance \(id) has not failed", json: true) }
        return .json(.object([("id", .string(id)), ("status", .string("queued"))]))
    }

    /// `POST /api/instances/ID/cancel`: as `waymark-run cancel`.
    func cancel(_ id: String, _ request: DashboardRequest) async throws -> DashboardResponse {
        if let refused = refusal(request) { return refused }
        switch try await store.instanceCancel(id) {
        case .cancelledBeforeStart: return .json(.object([("id", .string(id)), ("cancel", .string("cancelled"))]))
        case .requested, .alreadyRequested: return .json(.object([("id", .string(id)), ("cancel", .string("requested"))]))
        case .finished(let status): return .error(409, "instance \(id) has ended (\(status.rawValue)); nothing to cancel", json: true)
        case .notFound: return .error(404, "no instance \(id)", json: true)
        }
    }

    /// Compares without stopping at the first difference, so timing does not reveal the token.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<min(x.count, y.count) { difference |= x[index] ^ y[index] }
        return difference == 0
    }

    // MARK: Workflows, health, metrics

    func versions(json: Bool) async throws -> DashboardResponse {
        let versions = try await store.workflowVersions()
        if json {
            return .json(.array(versions.map { version in
                .object([
                    ("workflow", .string(version.workflow)), ("version", .string(version.version)),
                    ("registered_at", .string(Pages.time(version.registeredAt))),
                    ("counts", .object(Pages.statuses.map { ($0.rawValue, .int(String(version.counts[$0] ?? 0))) })),
                ])
            }))
        }
        var pictures: [String: String] = [:]
        for version in versions where workflows[version.version] != nil { pictures[version.version] = drawing(version.version) }
        return .html(Pages.workflows(versions, pictures: pictures))
    }

    func health() async -> DashboardResponse {
        do {
            _ = try await store.instanceCounts()
            return .json(.object([("ok", .bool(true)), ("database", .string("reachable"))]))
        } catch {
            return .json(.object([("ok", .bool(false)), ("database", .string("unreachable: \(error)"))]), status: 503)
        }
    }

    func metricsText() async throws -> DashboardResponse {
        let counts = try await store.instanceCounts()
        return DashboardResponse(status: 200, contentType: "text/plain; version=0.0.4", body: metrics.text(instancesByStatus: counts))
    }
}
