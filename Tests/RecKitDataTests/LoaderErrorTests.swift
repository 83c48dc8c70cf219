import Testing
import _RecKitTestSupport

@testable import RecKitData

/// Malformed input gives the exact error: file, line, field and offending text.
@Suite struct LoaderErrorTests {
    let folder = TemporaryDirectory()

    func load(_ name: String, _ text: String, _ options: InteractionFileOptions = .init()) throws(DataError)
        -> LoadedInteractions
    {
        try InteractionFileLoader.load(folder.write(name, text), options: options)
    }

    @Test func missingFile() {
        let path = folder.path + "/nope.csv"
        #expect(throws: DataError(file: path, .fileNotFound)) { try InteractionFileLoader.load(path) }
        #expect(throws: DataError(file: path, .fileNotFound)) { try Dataset.load(path) }
    }

    @Test func emptyFile() {
        let path = folder.write("empty.csv", "")
        #expect(throws: DataError(file: path, .emptyFile)) { try InteractionFileLoader.load(path) }
        let blank = folder.write("blank.csv", "\n  \n")
        #expect(throws: DataError(file: blank, .emptyFile)) { try InteractionFileLoader.load(blank) }
    }

    @Test func badNumberNamesFileLineAndField() {
        let text = "user;item;rating\n1;2;4.5\n1;3;\"4,5\"\n"
        let path = folder.path + "/ratings.csv"
        #expect(throws: DataError(file: path, line: 3, field: "rating", .notANumber("4,5"))) {
            try load("ratings.csv", text)
        }
        let error = try? #require(throws: DataError.self) { try load("ratings.csv", text) }
        #expect(error?.description == "\(path):3: field 'rating': \"4,5\" is not a number")
    }

    @Test func wrongFieldCount() {
        let path = folder.path + "/r.csv"
        #expect(throws: DataError(file: path, line: 4, .wrongFieldCount(expected: 3, found: 2))) {
            try load("r.csv", "user,item,rating\n1,2,3\n2,2,4\n3,9\n")
        }
    }

    @Test func missingColumn() {
        let path = folder.path + "/r.csv"
        var options = InteractionFileOptions()
        options.mapping = ColumnMapping(user: .name("userId"), item: .name("movieId"), rating: .name("stars"))
        #expect(throws: DataError(file: path, line: 1, .missingColumn("stars"))) {
            try load("r.csv", "userId,movieId,rating\n1,2,3\n", options)
        }
    }

    @Test func badEncoding() throws {
        let path = folder.write(
            "bad.csv", bytes: Array("user,item\nu1,i1\nu\u{1}".utf8) + [0xFF, 0xFE] + Array(",i2\n".utf8))
        #expect(throws: DataError(file: path, line: 3, field: "user", .badEncoding(expected: "UTF-8"))) {
            try InteractionFileLoader.load(path)
        }
        // The same bytes read as Latin-1 are fine.
        var options = InteractionFileOptions()
        options.format.encoding = .latin1
        #expect(try InteractionFileLoader.load(path, options: options).users.ids == ["u\u{1}ÿþ", "u1"])
    }

    @Test func badTime() {
        let path = folder.path + "/t.csv"
        #expect(throws: DataError(file: path, line: 2, field: "timestamp", .notATime("yesterday"))) {
            try load("t.csv", "user,item,rating,timestamp\n1,2,3,yesterday\n")
        }
    }

    @Test func unterminatedQuote() {
        let path = folder.path + "/q.csv"
        #expect(throws: DataError(file: path, line: 2, .unterminatedQuote)) {
            try load("q.csv", "user,item\n\"1,2\n")
        }
    }

    @Test func unknownFormat() {
        let folderPath = folder.path + "/empty-folder"
        _ = folder.write("empty-folder/readme.txt", "hello")
        #expect(throws: DataError.self) { try Dataset.load(folderPath) }
        let error = try? #require(throws: DataError.self) { try Dataset.load(folderPath) }
        if case .unknownFormat = error?.reason {
        } else {
            Issue.record("expected unknownFormat, got \(String(describing: error))")
        }
        let single = folder.write("one.txt", "a\nb\nc\n")
        let singleError = try? #require(throws: DataError.self) { try Dataset.load(single) }
        if case .unknownFormat = singleError?.reason {
        } else {
            Issue.record("expected unknownFormat, got \(String(describing: singleError))")
        }
    }

    @Test func skippingBadLinesReportsCountAndFirstErrors() throws {
        var text = "user,item,rating\n"
        for row in 0..<20 { text += row % 4 == 3 ? "x,\(row),oops\n" : "\(row),\(row),3\n" }
        var options = InteractionFileOptions()
        options.badLines = .skip(keepingFirst: 2)
        let loaded = try load("s.csv", text, options)
        #expect(loaded.interactions.count == 15)
        #expect(loaded.report.skippedLineCount == 5)
        #expect(loaded.report.firstSkipped.map(\.line) == [5, 9])
        #expect(loaded.report.firstSkipped.first?.field == "rating")
    }

    @Test func dataErrorsAreReportedAtTheRightLineAcrossParallelChunks() throws {
        var text = "user,item,rating\n"
        for row in 0..<60_000 { text += "\(row % 997),\(row % 1201),\(row % 5 + 1)\n" }
        text += "5,6,seven\n"
        let path = folder.write("big.csv", text)
        var options = InteractionFileOptions(threadCount: 2)
        options.minimumChunkBytes = 1024
        #expect(throws: DataError(file: path, line: 60_002, field: "rating", .notANumber("seven"))) {
            try InteractionFileLoader.load(path, options: options)
        }
    }
}

/// Inputs that used to crash: each now loads or names its file, line and field.
@Suite struct FormerCrashTests {
    let folder = TemporaryDirectory()

    @Test func integerParsingIsOverflowChecked() {
        func parse(_ text: String) -> Int64? {
            Array(text.utf8).withUnsafeBufferPointer { ByteParsing.int64($0) }
        }
        #expect(parse("9223372036854775807") == .max && parse("-9223372036854775808") == .min)
        #expect(parse("9223372036854775808") == nil && parse("9999999999999999999") == nil)
        #expect(parse("-9223372036854775809") == nil && parse("1700000000") == 1_700_000_000 && parse("-12") == -12)
    }

    /// A 19-digit timestamp (`reckit data inspect` died with "arithmetic overflow").
    @Test func nineteenDigitTimestampIsAnError() {
        let path = folder.write("r.csv", "user,item,rating,timestamp\n1,2,4,1700000000\n1,3,5,9999999999999999999\n")
        #expect(throws: DataError(file: path, line: 3, field: "timestamp", .notATime("9999999999999999999"))) {
            try InteractionFileLoader.load(path)
        }
    }

    /// `nan` and out-of-range times or ratings in a split folder (`--split-dir` died converting them).
    @Test(arguments: ["nan", "inf", "1e30"])
    func splitFolderTimesAreChecked(time: String) {
        folder.write("s/train.tsv", "1\t2\t4\t100\n2\t3\t5\t\(time)\n")
        folder.write("s/test.tsv", "1\t3\t4\t200\n")
        #expect(throws: DataError.self) { try SplitDirectory.load(folder.path + "/s") }
        folder.write("s/train.tsv", "1\t2\tnan\t100\n")
        #expect(throws: DataError.self) { try SplitDirectory.load(folder.path + "/s") }
    }
}

/// Ratings outside the scale a format declares are counted by the summary (`reckit data inspect`
/// prints a warning); formats that declare none report nothing.
@Suite struct RatingScaleTests {
    @Test func outOfScaleRatingsAreCounted() throws {
        let folder = TemporaryDirectory()
        folder.write(
            "ml/u.data", "1\t10\t5\t881250949\n2\t10\t7\t881250950\n3\t11\t0\t881250951\n3\t10\t3\t881250952\n")
        let summary = DatasetSummary(try Dataset.load(folder.path + "/ml"))
        #expect(summary.ratingScale == [1, 5] && summary.ratingsOutsideScale == 2)
        let plain = DatasetSummary(try Dataset.load(folder.write("r.csv", "user,item,rating\n1,2,7\n")))
        #expect(plain.ratingScale == nil && plain.ratingsOutsideScale == nil)
    }
}
