/// 2-D max pooling of a channel concatenation, read part by part (`ReadsChannelParts`): part i
/// (Cᵢ channels at offset oᵢ) fills output planes (n, oᵢ + c), and its gradient comes from them.
extension Pool: ReadsChannelParts {
    var readsChannelParts: Bool { kind == .max && !wantsIndices }

    func accepts(parts: [Tensor]) -> Bool {
        guard let first = parts.first, first.rank == 4 else { return false }
        return parts.allSatisfy { $0.rank == 4 && $0.isFloatingPoint && $0.elementType == first.elementType
            && $0.shape[0] == first.shape[0] && $0.shape[2...] == first.shape[2...] }
    }

    func forward(parts: [Tensor]) throws -> [Tensor] {
        let first = parts[0]
        let (batch, spatial) = (first.shape[0], Array(first.shape[2...]))
        let geometry = try WindowGeometry(input: spatial, kernel: window.kernel!, attributes: window)
        let offsets = parts.channelOffsets, channels = offsets.last!
        let (inPlane, outPlane) = (spatial.reduce(1, *), geometry.output.reduce(1, *))
        let pooled = Tensor.filled(shape: [batch, channels] + geometry.output, elementType: first.elementType) { yp in
            for (index, part) in parts.enumerated() {
                let (partChannels, partOffset) = (part.shape[1], offsets[index])
                part.withFloats { xp in
                    Parallel.forChunks(batch * partChannels, minimumPerWorker: max(1, 4096 / max(outPlane, 1))) { range in
                        Parallel.blockRuns(range, blockLength: partChannels) { image, planes in
                            Pool.max2D(xp.baseAddress! + image * partChannels * inPlane, planes: planes, geometry: geometry,
                                       output: yp.baseAddress! + (image * channels + partOffset) * outPlane)
                        }
                    }
                }
            }
        }
        return [pooled]
    }

    func backward(parts: [Tensor], outputGradient g: Tensor, rectified: [Bool], needs: [Bool]) throws -> [Tensor?] {
        let first = parts[0]
        let (batch, spatial) = (first.shape[0], Array(first.shape[2...]))
        let geometry = try WindowGeometry(input: spatial, kernel: window.kernel!, attributes: window)
        let (rows, columns) = (AxisWindows(axis: 0, geometry: geometry), AxisWindows(axis: 1, geometry: geometry))
        let offsets = parts.channelOffsets, channels = offsets.last!
        let (inPlane, outPlane) = (spatial.reduce(1, *), geometry.output.reduce(1, *))
        guard g.shape == [batch, channels] + geometry.output else {
            throw CNNVizError(.shapeMismatch, "pool output gradient has shape \(g.shape), expected \([batch, channels] + geometry.output)")
        }
        return g.withFloats { gp in
            parts.enumerated().map { index, part in
                let (partChannels, partOffset) = (part.shape[1], offsets[index])
                guard needs[index] else { return nil }
                return part.withFloats { xp in
                    Tensor.filled(shape: part.shape, elementType: part.elementType) { dp in
                        Parallel.forChunks(batch * partChannels, minimumPerWorker: max(1, 8192 / max(outPlane, 1))) { range in
                            for plane in range {
                                let (image, channel) = plane.quotientAndRemainder(dividingBy: partChannels)
                                let target = dp.baseAddress! + plane * inPlane
                                target.initialize(repeating: 0, count: inPlane)
                                Pool.maxBackward2D(xp.baseAddress! + plane * inPlane,
                                                   gp.baseAddress! + (image * channels + partOffset + channel) * outPlane,
                                                   into: target, rows: rows, columns: columns, width: spatial[1],
                                                   rectified: rectified[index])
                            }
                        }
                    }
                }
            }
        }
    }
}
