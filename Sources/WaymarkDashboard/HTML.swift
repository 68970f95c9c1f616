import Foundation

/// HTML built as text, with every value from the database escaped on the way in: inputs,
/// results, errors and ids are data, and an instance whose input holds `<script>` must show
/// that text, never run it.
enum HTML {
    /// `text` safe inside an element or a double-quoted attribute.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// `text` as one query-string value.
    static func query(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A whole page: the navigation, `body` (already HTML), and with `live` a reload every 5 s.
    static func page(title: String, body: String, live: Bool = false) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title)) · waymark</title>
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; }
        nav { background: #1d2330; padding: 10px 20px; } nav a { color: #fff; margin-right: 18px; text-decoration: none; }
        main { padding: 16px 20px; } table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e6ec; vertical-align: top; }
        pre { background: #f5f6f8; padding: 8px; overflow: auto; max-height: 320px; }
        .status { padding: 1px 6px; border-radius: 3px; font-size: 12px; }
        .completed { background: #d8f3dc; } .failed { background: #ffd6d6; } .running { background: #dbe9ff; }
        .queued { background: #eee; } .sleeping { background: #fff1c2; } .cancelled { background: #e5e7eb; }
        form input, form select { margin-right: 8px; } .dag svg { max-width: 100%; height: auto; }
        .dag.painted g.node polygon, .dag.painted g.node ellipse, .dag.painted g.node path { fill: #f3f4f6; }
        .dag g.node.done polygon, .dag g.node.done ellipse, .dag g.node.done path, .chip.done { fill: #86efac; background: #86efac; }
        .dag g.node.running polygon, .dag g.node.running ellipse, .dag g.node.running path, .chip.running { fill: #93c5fd; background: #93c5fd; }
        .dag g.node.failed polygon, .dag g.node.failed ellipse, .dag g.node.failed path, .chip.failed { fill: #f87171; background: #f87171; }
        .dag g.node.failed polygon, .dag g.node.failed ellipse, .dag g.node.failed path { stroke: #b91c1c; stroke-width: 2; }
        .chip { padding: 1px 6px; border-radius: 3px; font-size: 12px; background: #f3f4f6; }
        ol.attempts { margin: 0; padding-left: 18px; } tr.retrying { background: #fff7ed; } tr:target { background: #fef08a; }
        .note { color: #6b7280; } .bars rect.actions { fill: #3b82f6; } .bars rect.instances { fill: #22c55e; }
        .bars rect.failed { fill: #ef4444; } .bars text { font-size: 10px; fill: #6b7280; }
        table.figures { width: auto; } .figures td:first-child { color: #6b7280; padding-right: 24px; } .figures td { font-size: 16px; }
        </style></head>
        <body><nav><a href="/instances">Instances</a><a href="/workflows">Workflows</a><a href="/throughput">Throughput</a><a href="/metrics">Metrics</a><a href="/healthz">Health</a></nav>
        <main>\(body)</main>
        \(live ? "<script>setTimeout(function () { location.reload(); }, 5000);</script>" : "")
        </body></html>
        """
    }
}
