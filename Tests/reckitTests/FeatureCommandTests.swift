import Foundation
import Testing
import _RecKitTestSupport

/// Feature models through the command line: a feature file's errors at file:line:column, training
/// with side data, cold start from `--user-features`, and the test-pair metrics.
@Suite(.serialized) struct FeatureCommandTests {
    static let folder = TemporaryDirectory()

    func reckit(_ arguments: [String]) throws -> EndToEndTests.Run { try EndToEndTests.reckit(arguments) }

    @Test func badFeatureFileIsReportedAtItsLine() throws {
        #expect(EndToEndTests.prepared)
        let file = Self.folder.write(
            "bad.yaml",
            """
            user:
              - {name: age, kind: bucketized, boundaries: [30, 20]}
            item:
              - {name: genres, kind: multivalent}
            """)
        let run = try reckit([
            "evaluate", "--data", EndToEndTests.data, "--model", "fm", "--features", file, "--metrics", "roc_auc",
        ])
        #expect(run.status != 0)
        #expect(run.stderr.contains("bad.yaml:2:"), "\(run.stderr)")
        #expect(run.stderr.contains("user[0].boundaries: must be finite and strictly ascending"), "\(run.stderr)")
        let typo = Self.folder.write("typo.yaml", "item:\n  - {name: genres, kind: multivalent, combiner: average}\n")
        let second = try reckit([
            "train", "--data", EndToEndTests.data, "--model", "fm", "--features", typo, "--out",
            Self.folder.path + "/x",
        ])
        #expect(second.status != 0 && second.stderr.contains("typo.yaml:2:"), "\(second.stderr)")
        #expect(second.stderr.contains("'average' is not one of sum, mean, sqrtn"), "\(second.stderr)")
    }

    @Test func trainsEvaluatesAndScoresNewcomersByFeatures() throws {
        #expect(EndToEndTests.prepared)
        let file = Self.folder.write(
            "features.yaml",
            """
            features:
              user:
                - {name: user_id, source: id, kind: categorical}
              item:
                - {name: item_id, source: id, kind: categorical}
                - {name: genres, kind: multivalent, combiner: sqrtn}
                - {name: year, kind: bucketized, quantiles: 4}
            """)
        let evaluation = try reckit([
            "evaluate", "--data", EndToEndTests.data, "--split", "random:0.2", "--model", "fm,deepfm", "--features",
            file,
            "--set", "epochs=2", "--metrics", "roc_auc,logloss,ndcg_strict,precision_strict@10", "--json",
        ])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        let results = try #require(try evaluation.json()["results"] as? [[String: Any]])
        for result in results {
            let auc = try #require(result["roc_auc"] as? Double)
            #expect(auc > 0.55 && auc < 1, "\(result)")
            #expect((result["context"] as? [String: String])?["features"] == file)
        }
        let model = Self.folder.path + "/fm"
        let train = try reckit([
            "train", "--data", EndToEndTests.data, "--model", "fm", "--set", "epochs=2", "--out", model, "--quiet",
        ])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(FileManager.default.fileExists(atPath: model + "/features.json"))
        let newcomer = try reckit([
            "recommend", "--model", model, "--user-features", "colour=blue", "-k", "3", "--json",
        ])
        #expect(newcomer.status == 0, "\(newcomer.stderr)")
        #expect(newcomer.stderr.contains("reads no user feature colour"), "\(newcomer.stderr)")
        #expect(newcomer.stdout.contains("features"), "\(newcomer.stdout)")
        // A model without features answers with the most popular items.
        let popular = try reckit(["recommend", "--model", EndToEndTests.model, "--user-features", "age=3", "-k", "3"])
        #expect(popular.status == 0 && popular.stderr.contains("reads no features"), "\(popular.stderr)")
    }
}
