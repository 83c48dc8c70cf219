import Foundation
import RecKitTensor

/// A problem reading a checkpoint into a module: a missing, extra or mis-shaped tensor, or a bad file.
public struct CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Module parameters saved as safetensors (the Hugging Face format: an 8-byte header length, a
/// JSON header of names, dtypes, shapes and offsets, then the raw little-endian data), readable
/// by Python's `safetensors` package.
public enum Checkpoint {
    /// Writes every named parameter (and `metadata`) to `path`, through a temporary file and a rename.
    /// - Throws: `FileWriteError`.
    public static func save(_ module: any Module, to path: String, metadata: [String: String] = [:]) throws {
        var entries: [String: SafeTensors.Entry] = [:]
        for parameter in module.parameters {
            precondition(entries[parameter.name] == nil, "two parameters named \(parameter.name)")
            entries[parameter.name] = .float32(parameter.variable.value)
        }
        try AtomicFile.write(SafeTensors.encode(entries, metadata: metadata), to: path)
    }

    /// Loads the parameters of `module` from `path`; every parameter must be present with its shape,
    /// and the file must hold no others. Returns the file's metadata.
    @discardableResult
    public static func load(into module: any Module, from path: String) throws -> [String: String] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CheckpointError("\(path): cannot read (\(error.localizedDescription))")
        }
        let decoded: (entries: [String: SafeTensors.Entry], metadata: [String: String])
        do { decoded = try SafeTensors.decode(data) } catch { throw CheckpointError("\(path): \(error.description)") }
        let parameters = module.parameters
        let expected = Set(parameters.map(\.name))
        if let extra = decoded.entries.keys.sorted().first(where: { !expected.contains($0) }) {
            throw CheckpointError("\(path): tensor '\(extra)' is not a parameter of this module")
        }
        var values: [(Variable, Tensor)] = []
        for parameter in parameters {
            guard case .float32(let tensor)? = decoded.entries[parameter.name] else {
                throw CheckpointError("\(path): missing float tensor '\(parameter.name)'")
            }
            guard tensor.shape == parameter.variable.shape else {
                throw CheckpointError(
                    "\(path): '\(parameter.name)' has shape \(tensor.shape), the module expects "
                        + "\(parameter.variable.shape)"
                )
            }
            values.append((parameter.variable, tensor))
        }
        for (variable, tensor) in values { variable.value = tensor } // all checked first: no half-loaded module
        return decoded.metadata
    }
}
