// The umbrella module: `import CNNViz` gives every public module of the package, so a Swift
// program can load a model, read images, compute any attribution, draw it and write reports
// with one product (`.product(name: "CNNViz", package: "cnn-viz")`).
@_exported import CNNVizAttribution
@_exported import CNNVizImaging
@_exported import CNNVizRender
@_exported import CNNVizReport
@_exported import CNNVizRuntime
@_exported import CNNVizShapes
