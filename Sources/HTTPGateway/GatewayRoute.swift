/// A request path, decoded: `/`, `/livez`, `/readyz`, `/metrics`, `/<db>/`, `/<db>/<bucket>/`,
/// `/<db>/<bucket>/id/<id>`, `/<db>/<bucket>/name/<filename>` (the name may contain `/`).
enum GatewayRoute: Equatable {
    case root
    case livez
    case readyz
    case metrics
    case database(String)
    case bucket(String, String)
    case fileById(String, String, String)
    case fileByName(String, String, String)
    /// The same path with a trailing slash (`/db` → `/db/`).
    case addSlash(String)
    case notFound
    /// A malformed percent escape or name.
    case badPath(String)

    /// The route's label for metrics (a template, never client text).
    var label: String {
        switch self {
        case .root: return "root"
        case .livez: return "livez"
        case .readyz: return "readyz"
        case .metrics: return "metrics"
        case .database: return "database"
        case .bucket: return "bucket"
        case .fileById: return "file_by_id"
        case .fileByName: return "file_by_name"
        case .addSlash: return "redirect"
        case .notFound, .badPath: return "unknown"
        }
    }

    /// Parses the path part of a request target.
    init(path: String) {
        guard path.hasPrefix("/") else { self = .badPath("the path must start with /"); return }
        let raw = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var segments: [String] = []
        for s in raw {
            guard let decoded = URLText.percentDecode(s) else { self = .badPath("malformed percent-encoding in the path"); return }
            segments.append(decoded)
        }
        switch segments.count {
        case 1:
            switch segments[0] {
            case "": self = .root
            case "livez": self = .livez
            case "readyz": self = .readyz
            case "metrics": self = .metrics
            default: self = segments[0].contains(".") ? .notFound : .addSlash(path + "/")
            }
        case 2:
            if segments[1].isEmpty, !segments[0].isEmpty { self = .database(segments[0]) } else { self = .addSlash(path + "/") }
        case 3 where segments[2].isEmpty && !segments[0].isEmpty && !segments[1].isEmpty:
            self = .bucket(segments[0], segments[1])
        default:
            guard segments.count >= 4, !segments[0].isEmpty, !segments[1].isEmpty else { self = .notFound; return }
            let rest = segments[3...].joined(separator: "/")
            switch segments[2] {
            case "id" where segments.count == 4 && !rest.isEmpty: self = .fileById(segments[0], segments[1], rest)
            case "name" where !rest.isEmpty: self = .fileByName(segments[0], segments[1], rest)
            default: self = .notFound
            }
        }
    }
}
