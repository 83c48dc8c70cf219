import Foundation
import Testing
import _RecKitTestSupport

@testable import RecKit

/// `SparkALSImport` on hand-written job output (no Spark needed): the model it builds and what it refuses.
@Suite struct SparkALSImportTests {
    static func dataset() throws -> Dataset {
        let interactions = try Interactions(
            users: [0, 0, 1, 2], items: [0, 1, 1, 2], weights: [1, 2, 1, 3], userCount: 3, itemCount: 3)
        return Dataset(
            name: "d", format: .delimited, interactions: interactions, users: try IDMap(ids: ["u,1", "u2", "ü3"]),
            items: try IDMap(ids: ["a", "b", "c"]))
    }

    static func metadata(fingerprint: String?, implicit: Bool = true, factors: Int = 2) -> String {
        let recorded = fingerprint.map { #", "export_fingerprint": "\#($0)""# } ?? ""
        return #"{"tool": "spark-als", "spark_version": "4.3.0", "implicit_prefs": \#(implicit), "#
            + #""factors": \#(factors), "regularization": 0.1, "alpha": 2.0, "iterations": 7, "seed": 3\#(recorded)}"#
            + "\n"
    }

    /// A job's folder: user and item factors (parts in any order of rows), metadata.
    static func jobFolder(_ folder: TemporaryDirectory, metadata: String, userRows: String? = nil) {
        folder.write(
            "f/user_factors/part-00000-x.csv", userRows ?? "id,f0,f1\nu2,0.5,-1\n\"u,1\",1,0\n")
        folder.write("f/user_factors/part-00001-x.csv", "id,f0,f1\nü3,0,2\n")
        folder.write("f/user_factors/_SUCCESS", "")
        folder.write("f/item_factors/part-00000-y.csv", "id,f0,f1\nc,1,1\na,2,0\nb,0,3\n")
        folder.write("f/metadata/part-00000-z.txt", metadata)
    }

    @Test func buildsAnIALSModelWithSparksObjective() throws {
        let folder = TemporaryDirectory()
        let data = try Self.dataset()
        Self.jobFolder(folder, metadata: Self.metadata(fingerprint: data.interactions.fingerprint()))
        let trained = try SparkALSImport.model(factors: folder.path + "/f", data: data)
        let model = try #require(trained.model as? ImplicitALS)
        #expect(model.config.factorCount == 2 && model.config.regularization == 0.1 && model.config.alpha == 2)
        #expect(model.config.iterationCount == 7 && model.config.seed == 3)
        #expect(model.config.solver == .cholesky && model.config.regularizationScaling == .count)
        // Vectors land at the data's indices, whatever the row order in the parts.
        #expect(model.factors.userFactors.scalars == [1, 0, 0.5, -1, 0, 2])
        #expect(model.factors.itemFactors.scalars == [2, 0, 0, 3, 1, 1])
        // ü3 · items = [0, 6, 2] and ü3 saw c: "b" first, then "a".
        #expect(try trained.recommend(user: "ü3", k: 2).map(\.item) == ["b", "a"])
        #expect(trained.seen == InteractionMatrix.byUser(data.interactions))
        #expect(trained.provenance?["spark_version"] == .string("4.3.0"))
        guard case .object(let files) = trained.provenance?["files"] else {
            Issue.record("no file checksums")
            return
        }
        #expect(files.count == 3 && files.keys.allSatisfy { !$0.contains("_SUCCESS") })
        // The provenance survives saving.
        try trained.save(to: folder.path + "/m")
        let reloaded = try TrainedModel.load(folder.path + "/m").provenance
        #expect(reloaded?["spark_version"] == .string("4.3.0") && reloaded?["files"] == trained.provenance?["files"])
    }

    @Test func refusesWhatDoesNotFit() throws {
        let data = try Self.dataset()
        let fingerprint = data.interactions.fingerprint()
        func failure(_ metadata: String, userRows: String? = nil) -> String {
            let folder = TemporaryDirectory()
            Self.jobFolder(folder, metadata: metadata, userRows: userRows)
            do {
                _ = try SparkALSImport.model(factors: folder.path + "/f", data: data)
                return "imported"
            } catch { return "\(error)" }
        }
        #expect(failure(Self.metadata(fingerprint: "0123456789abcdef0000")).contains("fingerprint"))
        #expect(failure(Self.metadata(fingerprint: fingerprint, implicit: false)).contains("explicit ALS"))
        #expect(failure(Self.metadata(fingerprint: fingerprint, factors: 3)).contains("the metadata says 3"))
        #expect(failure(Self.metadata(fingerprint: nil), userRows: "id,f0,f1\nu2,0.5,-1\n").contains("'u,1'"))
        #expect(
            failure(Self.metadata(fingerprint: nil), userRows: "id,f0,f1\nu2,0,1\n\"u,1\",1,0\nzz,1,1\n")
                .contains("'zz' is not in the data"))
        #expect(failure("not json\n").contains("metadata"))
    }
}
