import ArgumentParser
import Foundation
import RecKit

/// Writes a split's examples exactly as RecKit's feature models see them (the data set's default
/// feature columns, fitted on the training file; training pairs with their rating means out of
/// fold): per example and field a bag of feature indices
/// and weights, and the label rating ≥ threshold. The PyTorch peers of fm, deepfm and widedeep
/// (`benchmarks/peers/feature_models_torch.py`) train on this file, so both sides learn from the
/// same inputs.
struct FeatureExamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feature-examples",
        abstract: "Export a split's feature-column examples (safetensors) for the PyTorch feature-model peers.")

    @Option(help: "A split folder (train.tsv, test.tsv with ratings).") var splitDir: String
    @Option(help: "The data set whose side data (attributes, genres) the split's IDs are matched to.") var data: String
    @Option(help: "The lowest rating labelled positive.") var threshold: Float = 4
    @Option(help: "Where to write the safetensors file.") var out: String

    func run() throws {
        let split = try SplitDirectory.load(splitDir)
        let side = try Dataset.load(data).side(alignedTo: split.users, items: split.items)
        let state = try FeatureState(fitting: split.train, side: side, model: "feature-examples")
        var entries: [String: SafeTensors.Entry] = [:]
        for (name, part) in [("train", split.train), ("test", split.test)] {
            guard let ratings = part.ratings else { throw ValidationError("\(name).tsv has no ratings") }
            // Training pairs read the rating means out of fold, as the models train.
            let batch = state.transform.batch(
                users: state.users, userRows: part.users, items: state.items, itemRows: part.items,
                times: part.timestamps?.map { Optional($0) },
                means: name == "train" ? RawFeatureTable.outOfFoldMeans(part) : nil)
            entries[name + ".offsets"] = .int64(batch.offsets.map { Int64($0) }, shape: [batch.offsets.count])
            entries[name + ".indices"] = .int32(batch.indices, shape: [batch.indices.count])
            entries[name + ".weights"] = .float32(Tensor(shape: [batch.weights.count], scalars: batch.weights))
            entries[name + ".labels"] = .float32(
                Tensor(shape: [ratings.count], scalars: ratings.map { $0 >= threshold ? 1 : 0 }))
        }
        let transform = state.transform
        let data = SafeTensors.encode(
            entries,
            metadata: [
                "field_count": String(transform.fieldCount), "feature_count": String(transform.featureCount),
                "crossed_fields": transform.crossedFields.map(String.init).joined(separator: ","),
                "fields": transform.columns.map(\.name).joined(separator: ","),
            ])
        try data.write(to: URL(fileURLWithPath: out))
        print(
            "\(out): \(split.train.count) training and \(split.test.count) test examples, "
                + "\(transform.fieldCount) fields, \(transform.featureCount) features")
    }
}
