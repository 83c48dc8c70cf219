import Foundation
import Testing
import _RecKitTestSupport

/// `reckit items add`: one item from options and several from a CSV file become a new model
/// directory whose `similar` and `recommend` know them; a bad file fails at its line and field.
@Suite(.serialized) struct ItemsCommandTests {
    static let folder = TemporaryDirectory()

    func reckit(_ arguments: [String]) throws -> EndToEndTests.Run { try EndToEndTests.reckit(arguments) }

    @Test func addsItemsFromOptionsAndFiles() throws {
        #expect(EndToEndTests.prepared)
        let model = Self.folder.path + "/content"
        let train = try reckit([
            "train", "--data", EndToEndTests.data, "--model", "content", "--set", "base=ials:factors=8",
            "--set", "epochs=3", "--out", model, "--quiet",
        ])
        #expect(train.status == 0, "\(train.stderr)")
        let one = try reckit([
            "items", "add", "--model", model, "--out", model + "-2", "--id", "new-1", "--title",
            "A Brand New Film (2031)", "--genres", "Drama|Comedy",
        ])
        #expect(one.status == 0 && one.stderr.contains("added 1 item"), "\(one.stderr)")
        let similar = try reckit(["similar", "--model", model + "-2", "--item", "new-1", "-k", "3", "--json"])
        #expect(similar.status == 0 && similar.stdout.contains("A Brand New Film (2031)"), "\(similar.stderr)")
        let file = Self.folder.write(
            "new.csv", "id,title,genres,tags\nnew-2,\"Another Film, The (2032)\",Action|Drama,\nnew-3,Third,,fun|loud\n"
        )
        let many = try reckit(["items", "add", "--model", model + "-2", "--out", model + "-3", "--file", file])
        #expect(many.status == 0 && many.stderr.contains("added 2 items"), "\(many.stderr)")
        let again = try reckit(["similar", "--model", model + "-3", "--item", "new-3", "-k", "3"])
        #expect(again.status == 0 && again.stdout.contains("items like new-3"), "\(again.stderr)")
        // The same ID twice, a bad year, and a model that cannot take items: clear errors.
        let repeated = try reckit(["items", "add", "--model", model + "-3", "--out", model + "-4", "--file", file])
        #expect(repeated.status != 0 && repeated.stderr.contains("item 'new-2' is already in the model"))
        let bad = Self.folder.write("bad.csv", "id,title,year\nx,Fine (2001),2001\ny,Bad,soon\n")
        let badRun = try reckit(["items", "add", "--model", model, "--out", model + "-5", "--file", bad])
        #expect(badRun.status != 0 && badRun.stderr.contains("bad.csv:3"), "\(badRun.stderr)")
        #expect(badRun.stderr.contains("year"), "\(badRun.stderr)")
        let ials = Self.folder.path + "/ials"
        _ = try reckit(["train", "--data", EndToEndTests.data, "--model", "ials", "--out", ials, "--quiet"])
        let refused = try reckit(["items", "add", "--model", ials, "--out", ials + "-2", "--id", "z", "--title", "Z"])
        #expect(refused.status != 0 && refused.stderr.contains("cannot take new items"), "\(refused.stderr)")
    }
}
