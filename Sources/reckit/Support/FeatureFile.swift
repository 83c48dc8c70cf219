import Foundation
import RecKitData
import Yams

/// Feature files (`--features FILE.yaml`, a suite data set's `features:`): `user:`, `item:`,
/// `context:` lists of columns and a `crossed:` list, read into a `FeatureSpec` and checked, every
/// problem reported at its `file:line:column` with the field (`item[1].boundaries`).
enum FeatureFile {
    typealias Problem = YAMLProblem

    static func read(_ path: String) throws -> FeatureSpec {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RuntimeError("\(path): cannot be read")
        }
        let root = try YAMLProblem.compose(text, path: path, field: "features")
        // A whole file may also be `features:` with the lists under it.
        if let mapping = root.mapping, mapping.count == 1, let inner = mapping["features"] {
            return try spec(inner, path: path, field: "features")
        }
        return try spec(root, path: path, field: "features")
    }

    static let columnKeys: Set<String> = [
        "name", "source", "kind", "boundaries", "quantiles", "buckets", "combiner", "min_count", "log", "prefix",
    ]

    /// The spec in `node` (a mapping of user/item/context/crossed lists).
    static func spec(_ node: Node, path: String, field: String) throws -> FeatureSpec {
        var marks: [String: Mark] = [:]
        func problem(_ node: Node?, _ at: String, _ message: String) -> Problem {
            Problem(path: path, mark: node?.mark, field: at, message: message)
        }
        guard let top = node.mapping else { throw problem(node, field, "expected a mapping with user, item, crossed") }
        var spec = FeatureSpec()
        for (key, value) in top {
            guard let name = key.string, ["user", "item", "context", "crossed"].contains(name) else {
                throw problem(key, field, "unknown key '\(key.string ?? "?")'; expected user, item, context, crossed")
            }
            guard let list = value.sequence else { throw problem(value, name, "expected a list of columns") }
            for (position, entry) in list.enumerated() {
                let at = "\(name)[\(position)]"
                guard let mapping = entry.mapping else {
                    throw problem(entry, at, "expected a mapping such as {name: genres, kind: multivalent}")
                }
                marks[at] = entry.mark
                var values: [String: Node] = [:]
                for (key, value) in mapping {
                    let allowed = name == "crossed" ? ["name", "columns", "buckets"] : columnKeys
                    guard let keyName = key.string, allowed.contains(keyName) else {
                        throw problem(
                            key, at,
                            "unknown key '\(key.string ?? "?")'; expected one of "
                                + allowed.sorted().joined(separator: ", "))
                    }
                    values[keyName] = value
                    marks[at + "." + keyName] = value.mark
                }
                func text(_ key: String) throws -> String? {
                    guard let node = values[key] else { return nil }
                    guard let string = node.scalar?.string, !string.isEmpty else {
                        throw problem(node, at + "." + key, "expected a single value")
                    }
                    return string
                }
                func integer(_ key: String) throws -> Int? {
                    guard let string = try text(key) else { return nil }
                    guard let value = Int(string) else {
                        throw problem(values[key], at + "." + key, "expected a whole number, not '\(string)'")
                    }
                    return value
                }
                func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws -> T?
                where T.RawValue == String {
                    guard let string = try text(key) else { return nil }
                    guard let value = T(rawValue: string) else {
                        throw problem(
                            values[key], at + "." + key,
                            "'\(string)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    return value
                }
                guard let columnName = try text("name") else { throw problem(entry, at, "a column needs a name") }
                if name == "crossed" {
                    guard let columns = values["columns"]?.sequence else {
                        throw problem(values["columns"] ?? entry, at + ".columns", "expected a list of column names")
                    }
                    let names = try columns.map { node -> String in
                        guard let string = node.scalar?.string else {
                            throw problem(node, at + ".columns", "expected a name")
                        }
                        return string
                    }
                    guard let buckets = try integer("buckets") else {
                        throw problem(entry, at, "a cross needs buckets")
                    }
                    spec.crossed.append(CrossedColumnSpec(columnName, columns: names, buckets: buckets))
                    continue
                }
                guard let kind = try choice("kind", FeatureKind.self) else {
                    throw problem(
                        entry, at,
                        "a column needs a kind (\(FeatureKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                var boundaries: [Float]?
                if let node = values["boundaries"] {
                    guard let list = node.sequence else {
                        throw problem(node, at + ".boundaries", "expected a list of numbers")
                    }
                    boundaries = try list.map { item -> Float in
                        guard let string = item.scalar?.string, let value = Float(string), value.isFinite else {
                            throw problem(
                                item, at + ".boundaries", "expected a number, not '\(item.scalar?.string ?? "?")'")
                        }
                        return value
                    }
                }
                var log: Bool?
                if let string = try text("log") {
                    guard let value = Bool(string) else {
                        throw problem(values["log"], at + ".log", "expected true or false")
                    }
                    log = value
                }
                let column = FeatureColumnSpec(
                    columnName, source: try text("source"), kind: kind, boundaries: boundaries,
                    quantiles: try integer("quantiles"), buckets: try integer("buckets"),
                    combiner: try choice("combiner", FeatureCombiner.self), minCount: try integer("min_count"),
                    log: log,
                    prefix: try integer("prefix"))
                switch name {
                case "user": spec.user.append(column)
                case "item": spec.item.append(column)
                default: spec.context.append(column)
                }
            }
        }
        do { try spec.validate() } catch {
            // The closest recorded position: the key's value, else its column.
            let column = String(error.path.prefix { $0 != "." })
            throw Problem(
                path: path, mark: marks[error.path] ?? marks[column], field: error.path, message: error.message)
        }
        return spec
    }
}
