import FlyingFox
import FlyingSocks
import Foundation

/// Serves a `Dashboard` over HTTP with FlyingFox (async sockets on epoll, no SwiftNIO: a
/// loopback dashboard does not need NIO's machinery or its build time).
public enum DashboardServer {
    public struct AddressError: Error, CustomStringConvertible {
        public var description: String
    }

    /// `host:port`, IPv4 (`127.0.0.1:24119`, the default's form; port 0 picks a free one).
    public static func parse(_ address: String) throws(AddressError) -> (host: String, port: UInt16) {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw AddressError(description: "'\(address)' is not host:port, e.g. 127.0.0.1:24119")
        }
        return (String(address[..<colon]), port)
    }

    /// Serves until the task is cancelled; `ready` gets the port once it listens.
    public static func run(_ dashboard: Dashboard, address: String, ready: @escaping @Sendable (UInt16) -> Void = { _ in }) async throws {
        let (host, port) = try parse(address)
        // No per-request log lines on stderr: serve logs what matters itself.
        let server = HTTPServer(address: try sockaddr_in.inet(ip4: host, port: port), logger: .disabled)
        await server.appendRoute("*") { request in
            var query: [String: String] = [:]
            for item in request.query { query[item.name] = item.value }
            let response = await dashboard.respond(DashboardRequest(
                method: request.method.rawValue, path: request.path, query: query, authorization: request.headers[.authorization]))
            return HTTPResponse(
                statusCode: HTTPStatusCode(response.status, phrase: phrase(response.status)),
                headers: [.contentType: response.contentType], body: Data(response.body.utf8))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            group.addTask {
                try await server.waitUntilListening()
                if case .ip4(_, let bound)? = await server.listeningAddress { ready(bound) }
            }
            defer { group.cancelAll() }
            try await group.next()
            try await group.next()
        }
    }

    static func phrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 409: "Conflict"
        case 503: "Service Unavailable"
        default: "Internal Server Error"
        }
    }
}
