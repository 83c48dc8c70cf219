import Yams

/// A problem in a YAML file the command line reads (a suite, a feature file), at a line and column
/// when known, naming the field: `suite.yaml:3:5: models[0].tune.budget: must be a whole number ≥ 1`.
struct YAMLProblem: Error, CustomStringConvertible {
    let path: String
    let mark: Mark?
    let field: String
    let message: String
    var description: String { "\(path)\(mark.map { ":\($0.line):\($0.column)" } ?? ""): \(field): \(message)" }

    /// The document's root node.
    /// - Throws: `YAMLProblem` for an empty file or text that is not YAML.
    static func compose(_ text: String, path: String, field: String) throws -> Node {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw YAMLProblem(path: path, mark: nil, field: field, message: "the file is empty")
            }
            return node
        } catch let error as YamlError {
            throw YAMLProblem(path: path, mark: nil, field: field, message: "not valid YAML: \(error)")
        }
    }
}
