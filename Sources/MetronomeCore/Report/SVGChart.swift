// Line and area charts as inline SVG text: nice ticks, a time or percentile (log 1/(1−p)) x axis, never a NaN.
import Glibc

struct SVGChart {
    enum XScale {
        case linear
        /// x values are percentiles (0 … 100) drawn at log10(1/(1 − p/100)), so each decade of
        /// nines (90 %, 99 %, 99.9 % …) gets the same width; 100 % sits at the right edge.
        case percentile
    }

    struct Series {
        var name: String
        var color: String
        /// `stroke-dasharray`, empty for a solid line: the second cue besides colour.
        var dash = ""
        var strokeWidth = 2.0
        var area = false
        /// A dot on every point: few points that each are a measurement (a sweep's steps).
        var dots = false
        /// A nil (or non-finite) y leaves a gap: no value is not the same as zero.
        var points: [(x: Double, y: Double?)]
    }

    /// A vertical line at `x` (and, with `endX`, a shaded range up to it) with a label above the
    /// plot, left of the line when `labelLeft`: a sweep's last passing step, find-max's bracket.
    struct Marker {
        var x: Double
        var endX: Double? = nil
        var label: String
        var color: String
        var labelLeft = false
    }

    /// A shaded x range with a label above the plot: the stages of the plan.
    struct Band {
        var startX: Double
        var endX: Double
        var label: String
    }

    var label: String
    var xTitle: String
    var yTitle: String
    var xScale = XScale.linear
    /// Fixed x range (linear scale); the data's range otherwise.
    var xDomain: (min: Double, max: Double)? = nil
    /// Counts per second: no tick at 0.5 of a request.
    var integerY = false
    var series: [Series] = []
    var bands: [Band] = []
    var markers: [Marker] = []
    var width = 900.0
    var height = 320.0

    // Margins leave room for labels at the larger font the page uses on narrow screens.
    private static let top = 36.0, right = 44.0, bottom = 74.0
    private static let labelCharWidth = 17.0

    /// The `<svg>` element, scaled by its viewBox to whatever width the page gives it.
    func svg() -> String {
        let points = series.map { line in line.points.map { (x: mapX($0.x), y: finite($0.y)) } }
        let xs = points.flatMap { $0.compactMap { $0.y == nil ? nil : $0.x } }
        let ys = points.flatMap { $0.compactMap(\.y) }

        var (x0, x1) = xRange(xs)
        if !(x1 > x0) { x1 = x0 + 1 }
        var yTicks = SVGChart.niceTicks(min: Swift.min(0, ys.min() ?? 0), max: ys.max() ?? 1, count: 5, minStep: integerY ? 1 : 0)
        if yTicks.count < 2 { yTicks = [0, 1] }
        let y0 = yTicks.first!, y1 = yTicks.last!
        let xTicks: [(value: Double, label: String)] = xScale == .percentile
            ? SVGChart.percentileTicks(decades: Int(x1.rounded()))
            : SVGChart.niceTicks(min: x0, max: x1, count: 8).map { ($0, SVGChart.tickLabel($0)) }

        let widestY = yTicks.map { SVGChart.tickLabel($0).count }.max() ?? 1
        // At least four characters wide, so stacked charts line up.
        let left = 40 + Double(Swift.max(4, widestY)) * SVGChart.labelCharWidth
        let plotW = width - left - SVGChart.right, plotH = height - SVGChart.top - SVGChart.bottom
        let base = SVGChart.top + plotH
        func px(_ x: Double) -> Double { left + SVGChart.clamp((x - x0) / (x1 - x0)) * plotW }
        func py(_ y: Double) -> Double { base - SVGChart.clamp((y - y0) / (y1 - y0)) * plotH }

        var out = "<svg class=\"plot\" viewBox=\"0 0 \(n(width)) \(n(height))\""
        out += " role=\"img\" aria-label=\"\(HTMLText.escape(label))\" font-size=\"14\">\n"
        out += "<title>\(HTMLText.escape(label))</title>\n"
        for (index, band) in bands.enumerated() {
            let a = px(mapX(band.startX)), b = px(mapX(band.endX))
            guard b > a else { continue }
            if index % 2 == 1 {
                out += "<rect class=\"band\" x=\"\(n(a))\" y=\"\(n(SVGChart.top))\" width=\"\(n(b - a))\" height=\"\(n(plotH))\"/>\n"
            }
            if a > left + 0.5 {
                out += "<line class=\"boundary\" x1=\"\(n(a))\" y1=\"\(n(SVGChart.top - 22))\" x2=\"\(n(a))\" y2=\"\(n(base))\"/>\n"
            }
            if Double(band.label.count) * SVGChart.labelCharWidth + 8 < b - a {
                out += "<text class=\"band-label\" x=\"\(n(a + 5))\" y=\"\(n(SVGChart.top - 8))\">\(HTMLText.escape(band.label))</text>\n"
            }
        }
        for tick in yTicks {
            let y = py(tick)
            out += "<line class=\"grid\" x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(left + plotW))\" y2=\"\(n(y))\"/>"
            out += "<text class=\"tick\" x=\"\(n(left - 8))\" y=\"\(n(y))\" dy=\"0.35em\" text-anchor=\"end\">\(SVGChart.tickLabel(tick))</text>\n"
        }
        for tick in xTicks where tick.value >= x0 - 1e-9 && tick.value <= x1 + 1e-9 {
            let x = px(tick.value)
            out += "<line class=\"grid\" x1=\"\(n(x))\" y1=\"\(n(SVGChart.top))\" x2=\"\(n(x))\" y2=\"\(n(base + 5))\"/>"
            out += "<text class=\"tick\" x=\"\(n(x))\" y=\"\(n(base + 30))\" text-anchor=\"middle\">\(HTMLText.escape(tick.label))</text>\n"
        }
        out += "<line class=\"axis\" x1=\"\(n(left))\" y1=\"\(n(base))\" x2=\"\(n(left + plotW))\" y2=\"\(n(base))\"/>"
        out += "<line class=\"axis\" x1=\"\(n(left))\" y1=\"\(n(SVGChart.top))\" x2=\"\(n(left))\" y2=\"\(n(base))\"/>\n"
        out += "<text class=\"axis-title\" x=\"\(n(left + plotW / 2))\" y=\"\(n(height - 8))\" text-anchor=\"middle\">\(HTMLText.escape(xTitle))</text>\n"
        let midY = SVGChart.top + plotH / 2
        for marker in markers where marker.x.isFinite {
            let a = px(mapX(marker.x))
            if let endX = marker.endX, endX.isFinite {
                let b = px(mapX(endX))
                out += "<rect x=\"\(n(Swift.min(a, b)))\" y=\"\(n(SVGChart.top))\" width=\"\(n(abs(b - a)))\" height=\"\(n(plotH))\" fill=\"\(marker.color)\" fill-opacity=\"0.12\"/>\n"
            }
            out += "<line x1=\"\(n(a))\" y1=\"\(n(SVGChart.top - 22))\" x2=\"\(n(a))\" y2=\"\(n(base))\" stroke=\"\(marker.color)\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\"/>\n"
            out += "<text x=\"\(n(marker.labelLeft ? a - 5 : a + 5))\" y=\"\(n(SVGChart.top - 8))\" text-anchor=\"\(marker.labelLeft ? "end" : "start")\" fill=\"\(marker.color)\">\(HTMLText.escape(marker.label))</text>\n"
        }
        out += "<text class=\"axis-title\" x=\"18\" y=\"\(n(midY))\" transform=\"rotate(-90 18 \(n(midY)))\" text-anchor=\"middle\">\(HTMLText.escape(yTitle))</text>\n"

        for (line, mapped) in zip(series, points) {
            for segment in SVGChart.segments(mapped) {
                let coords = segment.map { (px($0.x), py($0.y)) }
                if coords.count == 1 {
                    out += "<circle cx=\"\(n(coords[0].0))\" cy=\"\(n(coords[0].1))\" r=\"3.5\" fill=\"\(line.color)\"/>\n"
                    continue
                }
                let path = coords.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(n($0.element.0)) \(n($0.element.1))" }.joined(separator: " ")
                if line.area {
                    out += "<path d=\"M\(n(coords[0].0)) \(n(base)) L\(path.dropFirst()) L\(n(coords[coords.count - 1].0)) \(n(base)) Z\""
                    out += " fill=\"\(line.color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
                }
                out += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"\(n(line.strokeWidth))\""
                if !line.dash.isEmpty { out += " stroke-dasharray=\"\(line.dash)\"" }
                out += " stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n"
                if line.dots {
                    for (x, y) in coords { out += "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"4\" fill=\"\(line.color)\"/>\n" }
                }
            }
        }
        if ys.isEmpty {
            out += "<text class=\"empty\" x=\"\(n(left + plotW / 2))\" y=\"\(n(midY))\" text-anchor=\"middle\">no data</text>\n"
        }
        out += "</svg>"
        return out
    }

    /// The key as HTML, so it wraps on narrow screens instead of shrinking with the drawing.
    func legend() -> String {
        var out = "<ul class=\"legend\">"
        for line in series {
            out += "<li><svg width=\"30\" height=\"12\" viewBox=\"0 0 30 12\" aria-hidden=\"true\"><line x1=\"1\" y1=\"6\" x2=\"29\" y2=\"6\""
            out += " stroke=\"\(line.color)\" stroke-width=\"\(n(Swift.max(line.strokeWidth, 2.5)))\""
            if !line.dash.isEmpty { out += " stroke-dasharray=\"\(line.dash)\"" }
            out += "/></svg>\(HTMLText.escape(line.name))</li>"
        }
        return out + "</ul>"
    }

    // MARK: Scales

    private func mapX(_ x: Double) -> Double {
        guard xScale == .percentile, !x.isNaN else { return x }
        return SVGChart.percentileDecades(x) ?? .infinity
    }

    private func xRange(_ xs: [Double]) -> (Double, Double) {
        if xScale == .percentile {
            // One decade past the last finite point, so 100 % (drawn at the edge) stands apart.
            let finiteMax = xs.filter(\.isFinite).max() ?? 0
            return (0, Swift.min(9, Swift.max(1, (finiteMax + 1e-9).rounded(.down) + 1)))
        }
        if let xDomain, xDomain.min.isFinite, xDomain.max.isFinite { return (xDomain.min, xDomain.max) }
        let finite = xs.filter(\.isFinite)
        return (finite.min() ?? 0, finite.max() ?? 1)
    }

    /// log10(1/(1 − p/100)): 0 at 0 %, 1 at 90 %, 2 at 99 %; nil from 100 % on (infinitely far).
    static func percentileDecades(_ percent: Double) -> Double? {
        guard percent.isFinite else { return nil }
        if percent <= 0 { return 0 }
        if percent >= 100 { return nil }
        return -log10(1 - percent / 100)
    }

    /// `0%`, `90%`, `99%`, `99.9%` … written from the decade count, not from a rounded float;
    /// `50%` too while the decades are wide enough to fit it.
    static func percentileTicks(decades: Int) -> [(value: Double, label: String)] {
        var ticks: [(value: Double, label: String)] = [(0, "0%")]
        if decades <= 5 { ticks.append((log10(2.0), "50%")) }
        for k in 1...Swift.max(1, decades) {
            let label = k == 1 ? "90%" : k == 2 ? "99%" : "99." + String(repeating: "9", count: k - 2) + "%"
            ticks.append((Double(k), label))
        }
        return ticks
    }

    /// Ticks at 1, 2, 2.5 or 5 × 10^k covering [min, max], about `count` of them; the first at or
    /// below `min`, the last at or above `max` (with a little headroom so a line never runs on the frame).
    static func niceTicks(min: Double, max: Double, count: Int, minStep: Double = 0) -> [Double] {
        var low = min.isFinite ? min : 0
        var high = max.isFinite ? max : 1
        if high < low { swap(&low, &high) }
        if high - low < 1e-12 { high = low + (low == 0 ? 1 : abs(low)) }
        let step = Swift.max(minStep, niceStep((high - low) / Double(Swift.max(1, count))))
        let first = (low / step).rounded(.down)
        let last = ((high + (high - low) * 0.02) / step).rounded(.up)
        guard first.isFinite, last.isFinite, last - first < 1000 else { return [low, high] }
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }

    static func niceStep(_ rough: Double) -> Double {
        guard rough.isFinite, rough > 0 else { return 1 }
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        let fraction = rough / magnitude
        let nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
        return nice * magnitude
    }

    /// `0`, `2.5`, `1500`, `25k`, `1.5M`: short enough for the y axis.
    static func tickLabel(_ value: Double) -> String {
        let size = abs(value)
        if size >= 1e6 { return Format.trimmed(value / 1e6, decimals: 2) + "M" }
        if size >= 1e4 { return Format.trimmed(value / 1e3, decimals: 1) + "k" }
        return Format.trimmed(value, decimals: size < 1 ? 3 : 2)
    }

    private static func segments(_ points: [(x: Double, y: Double?)]) -> [[(x: Double, y: Double)]] {
        var result: [[(x: Double, y: Double)]] = []
        var current: [(x: Double, y: Double)] = []
        for point in points {
            if let y = point.y, !point.x.isNaN {
                current.append((point.x, y))
            } else if !current.isEmpty {
                result.append(current)
                current = []
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    private func finite(_ y: Double?) -> Double? { y.flatMap { $0.isFinite ? $0 : nil } }

    private static func clamp(_ fraction: Double) -> Double { fraction.isFinite ? Swift.min(1, Swift.max(0, fraction)) : (fraction > 0 ? 1 : 0) }
}

/// A coordinate as SVG text: one decimal, and never `nan` or `inf` whatever goes in.
private func n(_ value: Double) -> String { value.isFinite ? Format.trimmed(value, decimals: 1) : "0" }

/// Text into HTML and SVG: the five markup characters as entities, control characters (which XML
/// forbids and no browser shows) as U+FFFD.
enum HTMLText {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0xFFFE...0xFFFF).contains(scalar.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
