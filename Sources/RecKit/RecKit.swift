// The umbrella module: `import RecKit` brings in every library target.
@_exported import RecKitData
@_exported import RecKitEval
@_exported import RecKitModels
@_exported import RecKitNN
@_exported import RecKitTensor
