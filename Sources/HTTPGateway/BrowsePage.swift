/// The browse page: server-rendered HTML with no scripts, readable on a phone (390 px) and a
/// desktop: databases → buckets → files with size, type, upload date, download, delete and
/// preview links, an upload form, a search-by-name box and paging.
enum BrowsePage {
    /// Escapes text for HTML content and attribute values.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// `1.5 MiB`-style sizes.
    static func humanSize(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    static let style = """
        body{font-family:system-ui,sans-serif;margin:0;padding:1rem;color:#1b1b1b;background:#fafafa;line-height:1.4}
        header{margin-bottom:1rem}h1{font-size:1.3rem;margin:.2rem 0}nav a{margin-right:.3rem}
        a{color:#0b57d0}a:focus,button:focus,input:focus{outline:3px solid #f9a825;outline-offset:1px}
        table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ddd;vertical-align:top}
        td.num{text-align:right;white-space:nowrap}.name{word-break:break-all}
        form{margin:.5rem 0}.bar{display:flex;flex-wrap:wrap;gap:1rem;align-items:end;margin-bottom:1rem}
        fieldset{border:1px solid #ccc;padding:.5rem}button,input{font:inherit}
        .actions form{display:inline;margin:0}.actions a,.actions button{margin-right:.4rem}
        .preview{margin:1rem 0;padding:.5rem;background:#fff;border:1px solid #ccc}.preview img,.preview video{max-width:100%;max-height:60vh}
        .preview object{width:100%;height:60vh}.paging a{margin-right:1rem}
        @media (max-width:600px){th.opt,td.opt{display:none}td,th{padding:.3rem}}
        """

    static func page(title: String, breadcrumbs: [(String, String)], body: String) -> String {
        let crumbs = breadcrumbs.map { "<a href=\"\(escape($0.1))\">\(escape($0.0))</a>" }.joined(separator: " / ")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · gridlite</title><link rel="icon" href="data:,">
            <style>\(style)</style></head>
            <body><header><nav aria-label="breadcrumbs">\(crumbs)</nav><h1>\(escape(title))</h1></header>
            <main>\(body)</main></body></html>
            """
    }

    static func databases(_ names: [String]) -> String {
        let items = names.map { "<li><a href=\"/\(URLText.percentEncode($0))/\">\(escape($0))</a></li>" }.joined()
        let body = names.isEmpty ? "<p>No database holds a GridFS bucket yet.</p>" : "<ul>\(items)</ul>"
        return page(title: "Databases", breadcrumbs: [("gridlite", "/")], body: body)
    }

    static func buckets(database: String, _ names: [String]) -> String {
        let db = URLText.percentEncode(database)
        let items = names.map { "<li><a href=\"/\(db)/\(URLText.percentEncode($0))/\">\(escape($0))</a></li>" }.joined()
        let body = names.isEmpty ? "<p>No GridFS bucket in this database.</p>" : "<ul>\(items)</ul>"
        return page(title: "Buckets in \(database)", breadcrumbs: [("gridlite", "/"), (database, "/\(db)/")], body: body)
    }

    static func files(database: String, bucket: String, page filePage: Listings.FilePage, prefix: String, limit: Int,
                      preview: String?, isFirstPage: Bool) -> String {
        let db = URLText.percentEncode(database)
        let base = "/\(db)/\(URLText.percentEncode(bucket))/"
        var body = """
            <div class="bar">
            <form method="get" action="\(escape(base))" role="search"><label for="prefix">Name starts with</label>
            <input id="prefix" name="prefix" type="search" value="\(escape(prefix))"> <button type="submit">Search</button></form>
            <form method="post" action="\(escape(base))" enctype="multipart/form-data"><fieldset><legend>Upload a file</legend>
            <input id="file" name="file" type="file" aria-label="File to upload" required> <button type="submit">Upload</button></fieldset></form>
            </div>
            """
        if let previewId = preview, let file = filePage.files.first(where: { $0.idText == previewId }) {
            body += previewBlock(file, url: base + "id/" + URLText.percentEncode(file.idText))
        }
        if filePage.files.isEmpty {
            body += prefix.isEmpty ? "<p>This bucket has no files.</p>" : "<p>No file name starts with “\(escape(prefix))”.</p>"
        } else {
            body += "<table><caption class=\"opt\" style=\"text-align:left\">Files</caption><thead><tr><th scope=\"col\">Name</th>"
                + "<th scope=\"col\" class=\"num\">Size</th><th scope=\"col\" class=\"opt\">Type</th>"
                + "<th scope=\"col\" class=\"opt\">Uploaded</th><th scope=\"col\">Actions</th></tr></thead><tbody>"
            for f in filePage.files {
                let url = base + "id/" + URLText.percentEncode(f.idText)
                let name = f.filename ?? f.idText
                var actions = "<a href=\"\(escape(url))?download=1\" aria-label=\"Download \(escape(name))\">Download</a>"
                if MediaTypes.previewKind(f.contentType) != nil {
                    var q = "?preview=\(URLText.percentEncode(f.idText))&limit=\(limit)"
                    if !prefix.isEmpty { q += "&prefix=\(URLText.percentEncode(prefix))" }
                    actions += "<a href=\"\(escape(base + q))\" aria-label=\"Preview \(escape(name))\">Preview</a>"
                }
                actions += "<form method=\"post\" action=\"\(escape(url))?delete=1\"><button type=\"submit\" aria-label=\"Delete \(escape(name))\">Delete</button></form>"
                body += "<tr><td class=\"name\"><a href=\"\(escape(url))\">\(escape(name))</a></td>"
                    + "<td class=\"num\">\(humanSize(f.length))</td><td class=\"opt\">\(escape(f.contentType))</td>"
                    + "<td class=\"opt\">\(HTTPDate.iso8601(millisecondsSince1970: f.uploadDate))</td>"
                    + "<td class=\"actions\">\(actions)</td></tr>"
            }
            body += "</tbody></table>"
        }
        var paging: [String] = []
        var common = "limit=\(limit)"
        if !prefix.isEmpty { common += "&prefix=\(URLText.percentEncode(prefix))" }
        if !isFirstPage { paging.append("<a href=\"\(escape(base + "?" + common))\">First page</a>") }
        if let next = filePage.next {
            paging.append("<a href=\"\(escape(base + "?" + common + "&after=" + URLText.percentEncode(next)))\" rel=\"next\">Next page</a>")
        }
        if !paging.isEmpty { body += "<p class=\"paging\">\(paging.joined())</p>" }
        return page(title: "\(bucket) in \(database)",
                    breadcrumbs: [("gridlite", "/"), (database, "/\(db)/"), (bucket, base)], body: body)
    }

    static func previewBlock(_ f: StoredFile, url: String) -> String {
        let u = escape(url)
        let name = escape(f.filename ?? f.idText)
        let inner: String
        switch MediaTypes.previewKind(f.contentType) {
        case "image": inner = "<img src=\"\(u)\" alt=\"\(name)\">"
        case "video": inner = "<video src=\"\(u)\" controls preload=\"metadata\"></video>"
        case "audio": inner = "<audio src=\"\(u)\" controls preload=\"metadata\"></audio>"
        case "pdf": inner = "<object data=\"\(u)\" type=\"application/pdf\"><a href=\"\(u)\">\(name)</a></object>"
        default: return ""
        }
        return "<section class=\"preview\" aria-label=\"Preview of \(name)\"><h2 style=\"font-size:1rem\">\(name)</h2>\(inner)</section>"
    }
}
