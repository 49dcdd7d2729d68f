// `npusim report DIR`: one self-contained HTML page (no network access) from a --profile run
// or a sweep's output folder. The figures travel as JSON inside the page and a small script
// draws the tables and the timeline, so the page is the same offline and in any browser.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "platform/config/config_error.h"
#include "platform/output_file.h"
#include "platform/profile.h"
#include "platform/stats.h"
#include "platform/version.h"
#include "tools/npusim/commands.h"

namespace npusim::tools {

namespace fs = std::filesystem;
using nlohmann::json;
using platform::xml_escape;

namespace {

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// JSON that can sit inside a <script> element: '<' (only ever inside strings) as \u003c, so
/// no text of the data can close the element.
std::string script_json(const json& j) {
    std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
    std::string out;
    out.reserve(s.size());
    for (char c : s) out += c == '<' ? std::string("\\u003c") : std::string(1, c);
    return out;
}

const char* const k_style = R"(
body{font-family:sans-serif;margin:24px;color:#222;max-width:1300px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:12px}th,td{padding:3px 7px;border-bottom:1px solid #eee;text-align:right}
th{cursor:pointer;background:#f4f4f4;position:sticky;top:0}td.t,th.t{text-align:left}
pre{background:#f8f8f8;padding:10px;font-size:12px;overflow-x:auto}
.cards{display:flex;gap:14px;flex-wrap:wrap}.card{border:1px solid #ccc;border-radius:6px;padding:8px 14px}
.card b{display:block;font-size:18px}.note{color:#555;font-size:12px}
)";

/// Sortable tables (click a header) and the timeline overview; `window.npusim` holds the data.
const char* const k_script = R"(
function el(tag, attrs, text){const e=document.createElement(tag);for(const k in attrs||{})e.setAttribute(k,attrs[k]);if(text!==undefined)e.textContent=text;return e;}
function fmtNum(v,d){if(typeof v!=='number')return v===undefined||v===null?'':String(v);return Math.abs(v)>=1e7?v.toExponential(3):v!==0&&Math.abs(v)<1e-3?v.toPrecision(3):v.toFixed(d===undefined?3:d);}
function table(id, cols, rows){
  const t=document.getElementById(id);const head=el('tr');
  cols.forEach((c,i)=>{const th=el('th',c.text?{class:'t'}:{},c.name);th.dataset.col=i;th.onclick=()=>sortBy(i);head.appendChild(th);});
  t.appendChild(el('thead')).appendChild(head);const body=t.appendChild(el('tbody'));
  let order=rows.slice(),last=-1,dir=1;
  function draw(){body.textContent='';order.forEach(r=>{const tr=el('tr');cols.forEach(c=>tr.appendChild(el('td',c.text?{class:'t'}:{},c.text?String(r[c.key]===undefined?'':r[c.key]):fmtNum(r[c.key],c.digits))));body.appendChild(tr);});}
  function sortBy(i){const k=cols[i].key;dir=last===i?-dir:(cols[i].text?1:-1);last=i;order.sort((a,b)=>{const x=a[k],y=b[k];return (x<y?-1:x>y?1:0)*dir;});draw();}
  draw();t.dataset.rows=rows.length;
}
function timeline(id, ops){
  const svgNS='http://www.w3.org/2000/svg';const box=document.getElementById(id);
  if(!ops.length){box.textContent='no ops';return;}
  let t0=Infinity,t1=0;ops.forEach(o=>{t0=Math.min(t0,o.start_us);t1=Math.max(t1,o.start_us+o.duration_us);});
  const lanes=[];const placed=ops.slice().sort((a,b)=>a.start_us-b.start_us).map(o=>{let l=lanes.findIndex(e=>e<=o.start_us);if(l<0){l=lanes.length;lanes.push(0);}lanes[l]=o.start_us+o.duration_us;return [o,l];});
  const W=1200,L=10,H=Math.max(60,lanes.length*14+40);const span=Math.max(t1-t0,1e-9);
  const svg=document.createElementNS(svgNS,'svg');svg.setAttribute('width',W);svg.setAttribute('height',H);
  const types=[...new Set(ops.map(o=>o.op_type))];
  placed.forEach(([o,l])=>{const r=document.createElementNS(svgNS,'rect');r.setAttribute('x',L+(o.start_us-t0)/span*(W-2*L));r.setAttribute('y',10+l*14);
    r.setAttribute('width',Math.max(0.5,o.duration_us/span*(W-2*L)));r.setAttribute('height',12);r.setAttribute('fill',npusim.colours[types.indexOf(o.op_type)%npusim.colours.length]);
    const ti=document.createElementNS(svgNS,'title');ti.textContent=o.name+' ('+o.op_type+') '+fmtNum(o.duration_us)+' us';r.appendChild(ti);svg.appendChild(r);});
  for(let i=0;i<=10;i++){const x=L+i*(W-2*L)/10;const tx=document.createElementNS(svgNS,'text');tx.setAttribute('x',x);tx.setAttribute('y',H-6);tx.setAttribute('font-size','11');tx.setAttribute('text-anchor',i==0?'start':i==10?'end':'middle');tx.textContent=fmtNum(t0+i*span/10,1)+' us';svg.appendChild(tx);}
  box.appendChild(svg);const legend=el('div',{class:'note'});types.forEach((t,i)=>{const s=el('span',{style:'margin-right:12px'});const sw=el('span',{style:'display:inline-block;width:10px;height:10px;margin-right:4px;background:'+npusim.colours[i%npusim.colours.length]});s.appendChild(sw);s.appendChild(document.createTextNode(t));legend.appendChild(s);});box.appendChild(legend);
}
window.onerror=function(m){document.body.dataset.status='error: '+m;};
)";

const char* const k_colours =
    R"(["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf","#393b79","#637939","#8c6d31","#843c39","#7b4173","#3182bd","#e6550d","#31a354","#756bb1","#636363"])";

std::string page(const std::string& title, const std::string& body, const json& data,
                 const std::string& render) {
    return fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<title>{0}</title>\n<style>{1}</style></head>\n<body data-status=\"loading\">\n{2}\n"
        "<script id=\"npusim-data\" type=\"application/json\">{3}</script>\n<script>{4}\n"
        "window.npusim=JSON.parse(document.getElementById('npusim-data').textContent);\n"
        "npusim.colours={5};\ntry{{{6}\ndocument.body.dataset.status='ok';}}catch(e){{"
        "document.body.dataset.status='error: '+e;}}\n</script>\n</body></html>\n",
        xml_escape(title), k_style, body, script_json(data), k_script, k_colours, render);
}

std::string run_page(const json& stats, const std::string& roofline) {
    json ops = json::array();
    for (const auto& p : platform::profile_ops(stats)) {
        const json& o = *p.op;
        json r = {{"name", o["name"]},
                  {"op_type", p.op_type},
                  {"kernel", o.value("kernel", "")},
                  {"tiling", o.value("tiling", "")},
                  {"start_us", o["start_ns"].get<double>() / 1000},
                  {"duration_us", p.duration_ns / 1000},
                  {"wait_us", p.wait_ns / 1000},
                  {"gm_mib", p.gm_bytes / 1048576},
                  {"tflops", p.tflops},
                  {"gm_gbps", p.gm_gbps},
                  {"flop_roof_pct", 100 * p.flop_roof},
                  {"gm_roof_pct", 100 * p.gm_roof},
                  {"limiting", p.limiting_pipe.empty() ? std::string()
                                                       : fmt::format("{} {:.0f}%", p.limiting_pipe,
                                                                     100 * p.limiting_ratio)}};
        if (o.contains("blocks")) r["blocks"] = o["blocks"];
        ops.push_back(r);
    }
    json types = json::array();
    std::istringstream csv(platform::op_statistic_csv(stats));
    std::string line;
    std::getline(csv, line);  // header
    // op_statistic rows, parsed back from the CSV so the page shows exactly the file's figures.
    while (std::getline(csv, line)) {
        std::vector<std::string> f;
        std::string cur;
        bool quoted = false;
        for (char c : line) {
            if (c == '"')
                quoted = !quoted;
            else if (c == ',' && !quoted)
                f.push_back(cur), cur.clear();
            else
                cur += c;
        }
        f.push_back(cur);
        if (f.size() < 11) continue;
        types.push_back({{"op_type", f[0]},
                         {"count", std::stod(f[1])},
                         {"total_us", std::stod(f[2])},
                         {"mean_us", std::stod(f[3])},
                         {"share_pct", std::stod(f[6])},
                         {"tflops", std::stod(f[9])},
                         {"gm_gbps", std::stod(f[10])}});
    }
    const json& sum = stats["summary"];
    const double span = sum["device_span_ns"].get<double>();
    std::string body = fmt::format(
        "<h1>npusim run report</h1>\n<p class=\"note\">npusim {}; platform {}; workload {}; "
        "overrides: {}</p>\n<div class=\"cards\">"
        "<div class=\"card\">simulated time<b id=\"sim-time\">{:.3f} us</b></div>"
        "<div class=\"card\">kernels<b id=\"kernel-count\">{}</b></div>"
        "<div class=\"card\">kernel span<b>{:.3f} us</b></div>"
        "<div class=\"card\">idle between kernels<b>{:.1f}%</b></div>"
        "<div class=\"card\">achieved<b>{:.2f} TFLOP/s</b></div></div>\n",
        xml_escape(stats.value("npusim_version", "")),
        xml_escape(stats["platform"].value("name", "")),
        xml_escape(stats.contains("run") ? stats["run"].value("workload", "") : ""),
        xml_escape(stats.contains("run") ? stats["run"].value("overrides", json::array()).dump()
                                         : "[]"),
        stats["sim_time_ns"].get<double>() / 1000, sum["kernels"].get<size_t>(), span / 1000,
        span > 0 ? 100 * sum["idle_between_kernels_ns"].get<double>() / span : 0.0,
        sum["achieved_tflops"].get<double>());
    body += "<h2>Summary</h2>\n<pre>" + xml_escape(platform::format_report(stats)) + "</pre>\n";
    body +=
        "<h2>Timeline overview</h2>\n<p class=\"note\">every op as a bar, overlapping ops on "
        "separate rows; hover for its name and time</p>\n<div id=\"timeline\"></div>\n";
    body += "<h2>Roofline</h2>\n" + roofline;
    body +=
        "<h2>Op types</h2>\n<table id=\"op-types\"></table>\n"
        "<h2>Ops</h2>\n<p class=\"note\">click a column to sort; definitions in docs/profile.md"
        "</p>\n<table id=\"ops\"></table>\n";
    const std::string render = R"(
table('ops',[{name:'name',key:'name',text:1},{name:'op type',key:'op_type',text:1},{name:'kernel',key:'kernel',text:1},{name:'blocks',key:'blocks',digits:0},{name:'start us',key:'start_us'},{name:'time us',key:'duration_us'},{name:'wait us',key:'wait_us'},{name:'GM MiB',key:'gm_mib'},{name:'TFLOP/s',key:'tflops',digits:2},{name:'GM GB/s',key:'gm_gbps',digits:1},{name:'%FLOP',key:'flop_roof_pct',digits:1},{name:'%GM',key:'gm_roof_pct',digits:1},{name:'limiting pipe',key:'limiting',text:1},{name:'tiling',key:'tiling',text:1}],npusim.ops);
table('op-types',[{name:'op type',key:'op_type',text:1},{name:'count',key:'count',digits:0},{name:'total us',key:'total_us'},{name:'mean us',key:'mean_us'},{name:'share %',key:'share_pct',digits:2},{name:'TFLOP/s',key:'tflops',digits:2},{name:'GM GB/s',key:'gm_gbps',digits:1}],npusim.types);
timeline('timeline',npusim.ops);
)";
    return page("npusim report", body, {{"ops", ops}, {"types", types}}, render);
}

std::string sweep_page(const fs::path& dir) {
    json rows = json::array();
    std::set<std::string> params, metrics;
    std::ifstream in(dir / "results.jsonl");
    std::string line;
    while (std::getline(in, line)) {
        const json r = json::parse(line, nullptr, false);
        if (r.is_discarded() || !r.is_object()) continue;
        json row = {{"index", r.value("index", json())},
                    {"workload", fs::path(r.value("workload", "")).filename().string()},
                    {"status", r.value("status", "")}};
        const json p = r.value("params", json::object()), m = r.value("metrics", json::object());
        for (const auto& [k, v] : p.items())
            params.insert(k), row["p:" + k] = v.is_string() ? v : json(v.dump());
        for (const auto& [k, v] : m.items()) metrics.insert(k), row["m:" + k] = v;
        rows.push_back(row);
    }
    json names = json::array();
    for (const auto& p : params) names.push_back({{"name", p}, {"key", "p:" + p}, {"text", 1}});
    names.push_back({{"name", "status"}, {"key", "status"}, {"text", 1}});
    for (const auto& m : metrics) names.push_back({{"name", m}, {"key", "m:" + m}});
    std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
        return a["index"].is_number() && b["index"].is_number() && a["index"] < b["index"];
    });
    std::string body = fmt::format(
        "<h1>npusim sweep report</h1>\n<p class=\"note\">npusim {}; {}; <span id=\"point-count\">{}"
        "</span> points recorded</p>\n<h2>Points</h2>\n<table id=\"points\"></table>\n",
        npusim::k_version, xml_escape(dir.filename().string()), rows.size());
    const fs::path plots = dir / "plots";
    if (fs::is_directory(plots)) {
        std::vector<fs::path> svgs;
        for (const auto& e : fs::directory_iterator(plots))
            if (e.path().extension() == ".svg") svgs.push_back(e.path());
        std::sort(svgs.begin(), svgs.end());
        if (!svgs.empty()) body += "<h2>Plots</h2>\n";
        for (const auto& p : svgs) {
            // gnuplot's SVG, inlined; the XML prologue is not allowed inside HTML.
            std::string svg = read_text(p);
            if (const size_t at = svg.find("<svg"); at != std::string::npos) svg = svg.substr(at);
            body += "<div>" + svg + "</div>\n";
        }
    }
    return page("npusim sweep report", body, {{"rows", rows}, {"cols", names}},
                "table('points',[{name:'#',key:'index',digits:0},{name:'workload',key:'workload',"
                "text:1}].concat(npusim.cols),npusim.rows);");
}

}  // namespace

int cmd_report(const std::string& dir_arg) {
    const fs::path dir(dir_arg);
    std::string html;
    try {
        if (fs::exists(dir / "stats.json")) {
            const json stats = json::parse(read_text(dir / "stats.json"), nullptr, false);
            if (stats.is_discarded() || !stats.is_object() ||
                stats.value("schema", "") != "npusim.stats/1")
                throw platform::config_error((dir / "stats.json").string(), "stats.json",
                                             "not an npusim.stats/1 document",
                                             "write it with npusim run --profile " + dir_arg);
            const fs::path svg = dir / "roofline.svg";
            html =
                run_page(stats, fs::exists(svg) ? read_text(svg) : platform::roofline_svg(stats));
        } else if (fs::exists(dir / "results.jsonl")) {
            html = sweep_page(dir);
        } else {
            throw platform::config_error(
                dir_arg, "dir",
                "holds neither stats.json (a --profile run) nor results.jsonl (a sweep)",
                "give the folder of npusim run --profile DIR or of npusim sweep --out DIR");
        }
        platform::output_file out((dir / "report.html").string(), "report");
        out.write_and_commit(html);
    } catch (const platform::config_error& e) {
        std::cerr << e.what() << "\n";
        return 2;
    } catch (const nlohmann::json::exception& e) {
        std::cerr << "npusim report: " << dir_arg << ": the stats do not have the expected form ("
                  << e.what() << ")\n  hint: write them with this npusim version's run --profile\n";
        return 2;
    }
    std::cout << "report " << (dir / "report.html").string() << "\n";
    return 0;
}

}  // namespace npusim::tools
