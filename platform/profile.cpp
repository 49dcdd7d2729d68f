#include "platform/profile.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "platform/stats.h"

namespace npusim::platform {

using nlohmann::json;

namespace {

const char* const k_pipes[] = {"MTE1", "MTE2", "MTE3", "M", "V", "FIX"};

double num(const json& j, const char* key) {
    return j.contains(key) ? j[key].get<double>() : 0.0;
}

std::string fixed(double v, int digits) {
    return fmt::format("{:.{}f}", v, digits);
}

}  // namespace

std::string xml_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '&')
            out += "&amp;";
        else if (c == '<')
            out += "&lt;";
        else if (c == '>')
            out += "&gt;";
        else if (c == '"')
            out += "&quot;";
        else if (c == '\'')
            out += "&#39;";
        else if ((u >= 0x20 && u != 0x7f) || c == '\n' || c == '\t')
            out += c;
    }
    return out;
}

std::string csv_field(const std::string& s) {
    std::string v = s;
    if (!v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) v = "'" + v;
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string q = "\"";
    for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::vector<op_profile> profile_ops(const json& stats) {
    const double peak_flops = num(stats, "peak_fp16_flops");
    const double peak_bw = stats["memory"]["gm"].value("peak_bandwidth", 0.0);
    std::vector<op_profile> out;
    for (const auto& o : stats["ops"]) {
        op_profile p;
        p.op = &o;
        const std::string type = o["type"].get<std::string>();
        p.op_type = o.value("op", type == "kernel" ? o["name"].get<std::string>() : type);
        p.duration_ns = o["end_ns"].get<double>() - o["start_ns"].get<double>();
        p.gm_bytes = op_gm_bytes(o);
        const double f = o["flops"].get<double>();
        p.tflops = p.duration_ns > 0 ? f / p.duration_ns / 1e3 : 0;
        p.gm_gbps = p.duration_ns > 0 ? p.gm_bytes / p.duration_ns : 0;
        p.flop_roof = peak_flops > 0 ? p.tflops * 1e12 / peak_flops : 0;
        p.gm_roof = peak_bw > 0 ? p.gm_gbps * 1e9 / peak_bw : 0;
        if (o.contains("pipe_busy_ratio"))
            for (const auto& [pipe, r] : o["pipe_busy_ratio"].items())
                if (r.get<double>() > p.limiting_ratio) {
                    p.limiting_ratio = r.get<double>();
                    p.limiting_pipe = pipe;
                }
        out.push_back(p);
    }
    std::stable_sort(out.begin(), out.end(), [](const op_profile& a, const op_profile& b) {
        return (*a.op)["start_ns"].get<double>() < (*b.op)["start_ns"].get<double>();
    });
    // Launch gaps: a kernel waits from the last end of the kernels that started before it.
    double last_end = -1;
    for (auto& p : out) {
        if (!is_kernel_op((*p.op)["type"].get<std::string>())) continue;
        const double start = (*p.op)["start_ns"].get<double>();
        if (last_end >= 0) p.wait_ns = std::max(0.0, start - last_end);
        last_end = std::max(last_end, (*p.op)["end_ns"].get<double>());
    }
    return out;
}

std::string op_summary_csv(const json& stats) {
    std::string csv =
        "name,op_type,kernel,tiling,block_dim,start_us,duration_us,wait_us,aicore_time_us";
    for (const char* p : k_pipes) csv += fmt::format(",{}_ratio", p);
    csv +=
        ",gm_read_bytes,gm_write_bytes,l2_read_bytes,l2_write_bytes,l2_read_hit_rate,"
        "tensor_bytes,flops,tflops,gm_gbps,flop_roof_pct,gm_roof_pct,limiting_pipe,units,"
        "imbalance\n";
    for (const auto& p : profile_ops(stats)) {
        const json& o = *p.op;
        const bool launched = o.contains("blocks");
        csv += csv_field(o["name"].get<std::string>()) + "," + csv_field(p.op_type) + "," +
               csv_field(o.value("kernel", "")) + "," + csv_field(o.value("tiling", "")) + ",";
        csv += launched ? std::to_string(o["blocks"].get<unsigned>()) : "";
        csv += "," + fixed(o["start_ns"].get<double>() / 1000, 3) + "," +
               fixed(p.duration_ns / 1000, 3) + "," + fixed(p.wait_ns / 1000, 3) + ",";
        csv += launched ? fixed(o["block_ns"].get<double>() / 1000, 3) : "";
        for (const char* pipe : k_pipes) {
            csv += ",";
            if (launched) csv += fixed(o["pipe_busy_ratio"].value(pipe, 0.0), 4);
        }
        if (launched) {
            const double rh = num(o, "l2_read_hits"), rm = num(o, "l2_read_misses");
            csv +=
                fmt::format(",{},{},{},{},{}", o["gm_read_bytes"].get<uint64_t>(),
                            o["gm_write_bytes"].get<uint64_t>(), o["l2_read_bytes"].get<uint64_t>(),
                            o["l2_write_bytes"].get<uint64_t>(),
                            rh + rm > 0 ? fixed(rh / (rh + rm), 4) : std::string());
        } else {
            csv += ",,,,,";
        }
        csv += fmt::format(",{},{:.6g},{:.3f},{:.3f},{:.2f},{:.2f},{}", o["bytes"].get<uint64_t>(),
                           o["flops"].get<double>(), p.tflops, p.gm_gbps, 100 * p.flop_roof,
                           100 * p.gm_roof, p.limiting_pipe);
        csv += launched && o.contains("imbalance")
                   ? fmt::format(",{},{:.4f}\n", o["units"].get<unsigned>(),
                                 o["imbalance"].get<double>())
                   : std::string(",,\n");
    }
    return csv;
}

std::string op_statistic_csv(const json& stats) {
    struct group {
        size_t count = 0;
        double total = 0, min = 0, max = 0, flops = 0, gm = 0;
    };
    std::map<std::string, group> by_type;
    double all = 0;
    for (const auto& p : profile_ops(stats)) {
        group& g = by_type[p.op_type];
        g.min = g.count ? std::min(g.min, p.duration_ns) : p.duration_ns;
        g.max = std::max(g.max, p.duration_ns);
        ++g.count;
        g.total += p.duration_ns;
        g.flops += (*p.op)["flops"].get<double>();
        g.gm += p.gm_bytes;
        all += p.duration_ns;
    }
    std::vector<std::pair<std::string, group>> rows(by_type.begin(), by_type.end());
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto& a, const auto& b) { return a.second.total > b.second.total; });
    std::string csv =
        "op_type,count,total_us,mean_us,min_us,max_us,share_pct,flops,gm_bytes,tflops,gm_gbps\n";
    for (const auto& [type, g] : rows)
        csv += fmt::format("{},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.2f},{:.6g},{:.0f},{:.3f},{:.3f}\n",
                           csv_field(type), g.count, g.total / 1000, g.total / g.count / 1000,
                           g.min / 1000, g.max / 1000, all > 0 ? 100 * g.total / all : 0.0, g.flops,
                           g.gm, g.total > 0 ? g.flops / g.total / 1e3 : 0.0,
                           g.total > 0 ? g.gm / g.total : 0.0);
    return csv;
}

namespace {

/// Distinct colours for up to 20 series (then they repeat, with a different marker).
const char* const k_colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
                                 "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173",
                                 "#3182bd", "#e6550d", "#31a354", "#756bb1", "#636363"};

}  // namespace

std::string roofline_svg(const json& stats) {
    const double peak = num(stats, "peak_fp16_flops") / 1e12;                     // TFLOP/s
    const double bw = stats["memory"]["gm"].value("peak_bandwidth", 0.0) / 1e12;  // TB/s
    struct point {
        double x, y;
        std::string name, type;
    };
    std::vector<point> pts;
    size_t skipped = 0;
    for (const auto& p : profile_ops(stats)) {
        const double f = (*p.op)["flops"].get<double>();
        if (f > 0 && p.gm_bytes > 0 && p.duration_ns > 0)
            pts.push_back(
                {f / p.gm_bytes, p.tflops, (*p.op)["name"].get<std::string>(), p.op_type});
        else if (is_kernel_op((*p.op)["type"].get<std::string>()))
            ++skipped;
    }
    // Axes: decades covering the points and the ridge point (peak / bandwidth).
    double xmin = 0.1, xmax = 1000, ymin = 0.01, ymax = std::max(1.0, peak * 2);
    if (peak > 0 && bw > 0) xmax = std::max(xmax, 10 * peak / bw);
    for (const auto& p : pts) {
        xmin = std::min(xmin, p.x / 2), xmax = std::max(xmax, p.x * 2);
        ymin = std::min(ymin, p.y / 2), ymax = std::max(ymax, p.y * 2);
    }
    const double lx0 = std::floor(std::log10(xmin)), lx1 = std::ceil(std::log10(xmax));
    const double ly0 = std::floor(std::log10(ymin)), ly1 = std::ceil(std::log10(ymax));
    std::map<std::string, size_t> colour;
    for (const auto& p : pts) colour.emplace(p.type, colour.size());
    // The plot box; the picture grows to fit a long legend.
    const double W = 860, L = 80, R = 600, T = 40, B = 460;
    const double H = std::max(520.0, T + 18.0 * double(colour.size()) + 40);
    auto sx = [&](double x) { return L + (std::log10(x) - lx0) / (lx1 - lx0) * (R - L); };
    auto sy = [&](double y) { return B - (std::log10(y) - ly0) / (ly1 - ly0) * (B - T); };

    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
        "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
        "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        "<text x=\"{2}\" y=\"24\" font-size=\"15\">Roofline: {3} ({4} ops; GM bytes measured)"
        "</text>\n",
        W, H, L, xml_escape(stats["platform"].value("name", "")), pts.size());
    for (double e = lx0; e <= lx1; ++e)
        svg += fmt::format(
            "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>"
            "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4:g}</text>\n",
            sx(std::pow(10, e)), T, B, B + 16, std::pow(10, e));
    for (double e = ly0; e <= ly1; ++e)
        svg += fmt::format(
            "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>"
            "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:g}</text>\n",
            L, sy(std::pow(10, e)), R, L - 6, sy(std::pow(10, e)) + 4, std::pow(10, e));
    svg += fmt::format(
        "<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" fill=\"none\" stroke=\"black\"/>\n"
        "<text x=\"{4}\" y=\"{5}\" text-anchor=\"middle\">arithmetic intensity (FLOP per GM "
        "byte)</text>\n<text transform=\"translate(22,{6}) rotate(-90)\" "
        "text-anchor=\"middle\">achieved TFLOP/s</text>\n",
        L, T, R - L, B - T, (L + R) / 2, B + 36, (T + B) / 2);
    if (peak > 0 && bw > 0) {
        // The roof: bandwidth slope up to the ridge, then the compute ceiling.
        const double ridge = peak / bw;
        const double x1 = std::pow(10, lx1);
        const double xs = std::max(std::pow(10, lx0), std::pow(10, ly0) / bw);
        svg += fmt::format(
            "<polyline fill=\"none\" stroke=\"black\" stroke-width=\"2\" "
            "points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\"/>\n",
            sx(xs), sy(xs * bw), sx(ridge), sy(peak), sx(x1), sy(peak));
        svg += fmt::format(
            "<text x=\"{:.1f}\" y=\"{:.1f}\">fp16 peak {:.1f} TFLOP/s</text>\n"
            "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">GM {:.0f} GB/s</text>\n",
            sx(ridge) + 6, sy(peak) - 6, peak, sx(ridge) - 6, sy(peak) + 16, bw * 1000);
    }
    for (const auto& p : pts) {
        const size_t c = colour[p.type];
        svg += fmt::format(
            "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\" fill-opacity=\"0.7\">"
            "<title>{} ({}): {:.3g} FLOP/B, {:.3g} TFLOP/s</title></circle>\n",
            sx(p.x), sy(p.y), c < 20 ? 4 : 6, k_colours[c % 20], xml_escape(p.name),
            xml_escape(p.type), p.x, p.y);
    }
    double ly = T + 10;
    for (const auto& [type, c] : colour) {
        svg += fmt::format(
            "<circle cx=\"{}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\"/><text x=\"{}\" y=\"{:.1f}\">{}"
            "</text>\n",
            R + 24, ly, k_colours[c % 20], R + 34, ly + 4, xml_escape(type));
        ly += 18;
    }
    if (skipped)
        svg += fmt::format(
            "<text x=\"{}\" y=\"{}\" fill=\"#555\">{} kernels without FLOPs or GM "
            "bytes not shown</text>\n",
            L, H - 20, skipped);
    return svg + "</svg>\n";
}

}  // namespace npusim::platform
