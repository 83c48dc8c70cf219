import RecKit

/// A recommender whose scores are a fixed table (`table[user][item]`), to test evaluators and
/// compare score sources apart from any model.
public struct ScoreTable: Recommender {
    public let name: String
    public let table: [[Float]]

    public init(name: String = "table", _ table: [[Float]]) {
        self.name = name
        self.table = table
    }

    public var userCount: Int { table.count }
    public var itemCount: Int { table.first?.count ?? 0 }

    public func scores(forUsers users: [Int32]) -> Tensor {
        Tensor(shape: [users.count, itemCount], scalars: users.flatMap { table[Int($0)] })
    }

    public func scores(forHistory history: [Int32]) -> [Float] { [Float](repeating: 0, count: itemCount) }
}
