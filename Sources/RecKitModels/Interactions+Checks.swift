import RecKitData

extension Interactions {
    /// Checks that every value a confidence-weighted model reads (weight, else rating) is finite and
    /// not negative: a negative play count would give a negative confidence, which no solver can take.
    /// - Throws: `ConfigError` naming the model, the first bad row and its value.
    func checkNonNegativeValues(for model: String) throws(ConfigError) {
        guard let values = weights ?? ratings else { return }
        if let row = values.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
            throw ConfigError(
                model: model, key: "data",
                "needs finite, non-negative weights (interaction \(row) has \(values[row])); "
                    + "clean the data or drop those rows"
            )
        }
    }
}
