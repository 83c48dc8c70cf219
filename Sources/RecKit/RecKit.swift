// The umbrella module: `import RecKit` brings in every library target.
@_exported import RecKitData
@_exported import RecKitTensor
