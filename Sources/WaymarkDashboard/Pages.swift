import Foundation
import WaymarkCodegen
import WaymarkRunner
import WaymarkEval

/// The HTML of each page. Every value from the database goes through `HTML.escape`.
enum Pages {
    static let statuses: [InstanceStatus] = [.queued, .running, .sleeping, .completed, .failed, .cancelled]

    static func time(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    static func badge(_ status: InstanceStatus) -> String {
        "<span class=\"status \(status.rawValue)\">\(status.rawValue)</span>"
    }

    static func instances(_ rows: [PostgresStore.InstanceSummary], request: DashboardRequest, next: String?) -> String {
        let value = { (key: String) in HTML.escape(request.query[key] ?? "") }
        let options = ([""] + statuses.map(\.rawValue)).map { status in
            "<option value=\"\(status)\"\(request.query["status"] == status ? " selected" : "")>\(status.isEmpty ? "any status" : status)</option>"
        }.joined()
        var body = """
            <h1>Instances</h1>
            <form method="get" action="/instances">
            <input name="workflow" placeholder="workflow" value="\(value("workflow"))">
            <select name="status">\(options)</select>
            <input name="id" placeholder="id (or its start)" value="\(value("id"))">
            <input name="since" placeholder="since (ISO 8601)" value="\(value("since"))">
            <input name="until" placeholder="until" value="\(value("until"))">
            <button>Filter</button></form>
            <table id="instances"><thead><tr><th>id</th><th>workflow</th><th>status</th><th>created</th><th>updated</th></tr></thead><tbody>
            """
        for row in rows {
            body += "<tr><td><a href=\"/instances/\(HTML.query(row.id))\">\(HTML.escape(row.id))</a></td><td>\(HTML.escape(row.workflow))</td>"
            body += "<td>\(badge(row.status))</td><td>\(time(row.createdAt))</td><td>\(time(row.updatedAt))</td></tr>\n"
        }
        body += "</tbody></table>"
        if rows.isEmpty { body += "<p>No instances match.</p>" }
        if let next {
            var query = request.query
            query["after"] = next
            let link = query.sorted { $0.key < $1.key }.map { "\(HTML.query($0.key))=\(HTML.query($0.value))" }.joined(separator: "&amp;")
            body += "<p><a id=\"next\" href=\"/instances?\(link)\">Older →</a></p>"
        }
        return HTML.page(title: "Instances", body: body, live: request.query["after"] == nil)
    }

    static func pretty(_ json: JSON) -> String {
        "<pre>\(HTML.escape(json.serialized()))</pre>"
    }

    static func instance(
        _ record: InstanceRecord, timeline: [PostgresStore.TimelineEntry], attempts: [Int: [FailedAttempt]], live: Bool, dag: String,
        source: [SourceMapEntry]
    ) -> String {
        var body = """
            <h1>\(HTML.escape(record.workflow)) \(badge(record.status))</h1>
            <p>Instance <code id="instance-id">\(HTML.escape(record.id))</code>, version <code>\(HTML.escape(String(record.version.prefix(12))))</code>,
            created \(time(record.createdAt)), updated \(time(record.updatedAt)).</p>
            \(actions(record))
            <h2>Input</h2>\(pretty(record.input))
            """
        if let result = record.result {
            body += "<h2>Result</h2>\(pretty(ValueCodec.plain(tagged: result)))"
        }
        if let error = record.error {
            let type = error["type"]?.stringValue ?? "Error"
            let message = error["message"]?.stringValue ?? ""
            body += "<h2>Error</h2><p id=\"error\"><b>\(HTML.escape(type))</b>: \(HTML.escape(message))</p>"
            if let traceback = error["exception"]?["traceback"]?.stringValue {
                body += "<pre id=\"traceback\">\(HTML.escape(traceback))</pre>"
            }
        }
        body += "<h2>DAG</h2><p class=\"legend\">"
        body += NodeState.allCases.map { "<span class=\"chip \($0.rawValue)\">\($0.rawValue)</span>" }.joined(separator: " ")
        body += " <span class=\"chip\">not reached</span> · click a node for its source line</p><div class=\"dag\(dag.contains("data-state=") ? " painted" : "")\">\(dag)</div>"
        body += "<h2>Journal</h2><table id=\"journal\"><thead><tr><th>#</th><th>what</th><th>recorded</th><th>outcome</th><th>failed attempts</th></tr></thead><tbody>"
        for item in timeline {
            let (kind, detail) = describe(item.entry)
            body += "<tr class=\"\(kind)\" data-sequence=\"\(item.sequence)\"><td>\(item.sequence)</td><td>\(kind)</td><td>\(time(item.recordedAt))</td>"
            body += "<td>\(detail)</td><td>\(attemptList(attempts[item.sequence] ?? []))</td></tr>\n"
        }
        for (sequence, failures) in inFlight(attempts, timeline) {
            body += "<tr class=\"retrying\" data-sequence=\"\(sequence)\"><td>\(sequence)</td><td>action</td><td></td>"
            body += "<td>in flight: attempt \((failures.last?.attempt ?? 0) + 1)</td><td>\(attemptList(failures))</td></tr>\n"
        }
        body += "</tbody></table>"
        if timeline.isEmpty && attempts.isEmpty { body += "<p>Nothing recorded yet.</p>" }
        if !live { body += "<p class=\"note\">Failed attempts of retried actions are kept by the server that ran them: see this page on a server's own dashboard (<code>serve --dashboard</code>).</p>" }
        body += sourceLines(source)
        return HTML.page(title: record.workflow, body: body, live: !record.status.isFinished)
    }

    /// Each failed attempt of one action, oldest first.
    static func attemptList(_ failures: [FailedAttempt]) -> String {
        guard !failures.isEmpty else { return "" }
        let items = failures.map { failure in
            var text = "<li class=\"attempt\">attempt \(failure.attempt) at \(time(failure.at)): <b>\(HTML.escape(failure.type))</b>: \(HTML.escape(clip(failure.message)))"
            if let retry = failure.retryAt { text += "; retry at \(time(retry))" }
            return text + "</li>"
        }
        return "<ol class=\"attempts\">\(items.joined())</ol>"
    }

    /// Actions with failed attempts and no recorded outcome yet: retrying now.
    static func inFlight(_ attempts: [Int: [FailedAttempt]], _ timeline: [PostgresStore.TimelineEntry]) -> [(key: Int, value: [FailedAttempt])] {
        let recorded = Set(timeline.map(\.sequence))
        return attempts.filter { !recorded.contains($0.key) }.sorted { $0.key < $1.key }
    }

    /// The workflow's source lines the DAG's nodes link to (`#L<line>`).
    static func sourceLines(_ source: [SourceMapEntry]) -> String {
        var lines: [Int: SourceMapEntry] = [:]
        for entry in source where lines[entry.line] == nil { lines[entry.line] = entry }
        guard !lines.isEmpty else { return "" }
        var body = "<h2>Source</h2><table id=\"source\"><tbody>"
        for (line, entry) in lines.sorted(by: { $0.key < $1.key }) {
            body += "<tr id=\"L\(line)\"><td>\(HTML.escape(entry.file)):\(line)</td><td><code>\(HTML.escape(entry.text))</code></td></tr>\n"
        }
        return body + "</tbody></table>"
    }

    /// Cancel (an unfinished instance) and Retry (a failed one): buttons that POST to the
    /// `/api` endpoints with the dashboard token, asked for once and kept for the browser tab.
    /// The id reaches the script through an escaped data attribute, never through script text.
    static func actions(_ record: InstanceRecord) -> String {
        var buttons: [String] = []
        if !record.status.isFinished { buttons.append("cancel") }
        if record.status == .failed { buttons.append("retry") }
        guard !buttons.isEmpty else { return "" }
        let id = HTML.escape(record.id)
        var html = "<p class=\"actions\">"
        for action in buttons {
            html += "<button type=\"button\" data-action=\"\(action)\" data-id=\"\(id)\">\(action == "cancel" ? "Cancel" : "Retry")</button> "
        }
        html += "<span id=\"action-result\" class=\"note\"></span></p>"
        html += """
            <script>
            document.querySelectorAll("button[data-action]").forEach(function (button) {
              button.addEventListener("click", async function () {
                var token = sessionStorage.getItem("waymark-token") || prompt("Dashboard token (WAYMARK_WEBAPP_TOKEN)");
                if (!token) { return; }
                var response = await fetch("/api/instances/" + encodeURIComponent(button.dataset.id) + "/" + button.dataset.action,
                  { method: "POST", headers: { "Authorization": "Bearer " + token } });
                if (response.status === 401) { sessionStorage.removeItem("waymark-token"); } else { sessionStorage.setItem("waymark-token", token); }
                document.getElementById("action-result").textContent = response.ok ? button.dataset.action + ": done" : await response.text();
                if (response.ok) { setTimeout(function () { location.reload(); }, 500); }
              });
            });
            </script>
            """
        return html
    }

    /// A journal entry's kind and its outcome as escaped HTML.
    static func describe(_ entry: JournalEntry) -> (String, String) {
        switch entry {
        case .value(let json):
            return ("value", "<code>\(HTML.escape(clip(ValueCodec.plain(tagged: json).serialized())))</code>")
        case .error(let json):
            let type = json["type"]?.stringValue ?? "Error"
            return ("error", "<b>\(HTML.escape(type))</b>: \(HTML.escape(clip(json["message"]?.stringValue ?? "")))")
        case .wake(let date):
            return ("sleep", "wakes at \(time(date))")
        case .cancelled:
            return ("cancelled", "<b>CancelledError</b> raised here: the instance was cancelled")
        }
    }

    static func timelineJSON(_ item: PostgresStore.TimelineEntry, attempts: [FailedAttempt]) -> JSON {
        var fields: [(String, JSON)] = [("sequence", .int(String(item.sequence))), ("recorded_at", .string(time(item.recordedAt)))]
        if !attempts.isEmpty { fields.append(("failed_attempts", .array(attempts.map(attemptJSON)))) }
        switch item.entry {
        case .value(let json): fields += [("kind", .string("value")), ("value", ValueCodec.plain(tagged: json))]
        case .error(let json): fields += [("kind", .string("error")), ("error", json)]
        case .wake(let date): fields += [("kind", .string("sleep")), ("wake_at", .string(time(date)))]
        case .cancelled: fields += [("kind", .string("cancelled"))]
        }
        return .object(fields)
    }

    static func attemptJSON(_ failure: FailedAttempt) -> JSON {
        .object([
            ("attempt", .int(String(failure.attempt))), ("type", .string(failure.type)), ("message", .string(failure.message)),
            ("at", .string(time(failure.at))), ("retry_at", failure.retryAt.map { .string(time($0)) } ?? .null),
            ("timed_out", .bool(failure.timedOut)),
        ])
    }

    static func attemptsJSON(_ sequence: Int, _ failures: [FailedAttempt]) -> JSON {
        .object([("sequence", .int(String(sequence))), ("failed_attempts", .array(failures.map(attemptJSON)))])
    }

    /// `{"function": {"node id": "done" | "running" | "failed"}}`; nodes not listed were not reached.
    static func statesJSON(_ states: [String: [Int: NodeState]]) -> JSON {
        .object(states.sorted { $0.key < $1.key }.map { function, nodes in
            (function, .object(nodes.sorted { $0.key < $1.key }.map { (String($0.key), .string($0.value.rawValue)) }))
        })
    }

    static func clip(_ text: String) -> String {
        text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    static func workflows(_ versions: [PostgresStore.VersionSummary], pictures: [String: String]) -> String {
        var body = "<h1>Workflows</h1><table id=\"workflows\"><thead><tr><th>workflow</th><th>version</th><th>registered</th>"
        body += statuses.map { "<th>\($0.rawValue)</th>" }.joined() + "</tr></thead><tbody>"
        for version in versions {
            body += "<tr><td><a href=\"/instances?workflow=\(HTML.query(version.workflow))\">\(HTML.escape(version.workflow))</a></td>"
            body += "<td><code>\(HTML.escape(String(version.version.prefix(12))))</code></td><td>\(time(version.registeredAt))</td>"
            body += statuses.map { "<td>\(version.counts[$0] ?? 0)</td>" }.joined() + "</tr>\n"
        }
        body += "</tbody></table>"
        for version in versions {
            guard let picture = pictures[version.version] else { continue }
            body += "<h2>\(HTML.escape(version.workflow)) <code>\(HTML.escape(String(version.version.prefix(12))))</code></h2><div class=\"dag\">\(picture)</div>"
        }
        return HTML.page(title: "Workflows", body: body)
    }
}
