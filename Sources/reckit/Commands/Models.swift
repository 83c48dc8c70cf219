import ArgumentParser
import RecKit

struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the models, or describe one model's settings (type, default, allowed values, meaning).",
        discussion: "Examples: reckit models; reckit models ials; reckit models --markdown (the README's table).")

    @Argument(help: "A model name.") var name: String?
    @Flag(help: "Print the Markdown table of every model and its settings (as in the README).") var markdown = false

    func run() async throws {
        if markdown {
            print(ModelRegistry.markdownTable)
        } else if let name {
            let model: any TrainableRecommender.Type
            do { model = try ModelRegistry.model(named: name) } catch { throw ValidationError(error.description) }
            print(ModelRegistry.description(of: model))
        } else {
            print(ModelRegistry.listing)
            print("\n`reckit models NAME` lists a model's settings; every model also takes threads=N.")
        }
    }
}
