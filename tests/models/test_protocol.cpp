// The TLM-2.0 contract: the in-repo protocol checker catches each class of violation (hand-built
// bad initiators, targets and non-blocking phase sequences), and a chip with a checker on every
// hop, driven with real traffic and edge cases, breaks no rule and answers each error class the
// same way whether an access hits L2 or goes to GM.
//
// The expected response statuses come from IEEE 1666-2011 and docs/tlm-contract.md, not from
// the models: an address outside the target is an ADDRESS_ERROR, byte enables (unsupported) a
// BYTE_ENABLE_ERROR, a streaming width below the length a BURST_ERROR, an unknown command a
// COMMAND_ERROR, and TLM_IGNORE_COMMAND a timing-only access answered OK.
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <boost/test/unit_test.hpp>
#include <systemc>
#include <tlm>

#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "models/common/payload.h"
#include "models/common/protocol_checker.h"
#include "models/memory/gm_memory.h"
#include "models/memory/l2_cache.h"
#include "models/memory/router.h"
#include "tests/sw/kernel_fixture.h"
#include "tests/test_util.h"

using namespace npusim;
using models::mem_space;
using models::protocol_checker;

namespace {

/// An initiator that builds a fresh, fully prepared payload for every call.
struct probe : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<probe> socket;
    explicit probe(const sc_core::sc_module_name& nm) : sc_core::sc_module(nm), socket("socket") {}

    /// `sw` 0: streaming width = length.
    tlm::tlm_response_status access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data,
                                    unsigned len, unsigned char* be = nullptr, unsigned sw = 0) {
        tlm::tlm_generic_payload t;
        models::prepare_payload(t, cmd, addr, data, len);
        t.set_byte_enable_ptr(be);
        t.set_byte_enable_length(be ? len : 0);
        if (sw) t.set_streaming_width(sw);
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        socket->b_transport(t, d);
        return t.get_response_status();
    }
    /// Asks for DMI; returns whether it was granted and fills `dmi`.
    bool dmi(uint64_t addr, tlm::tlm_dmi& dmi, tlm::tlm_command cmd = tlm::TLM_READ_COMMAND) {
        tlm::tlm_generic_payload t;
        models::prepare_payload(t, cmd, addr, nullptr, 0);
        return socket->get_direct_mem_ptr(t, dmi);
    }
    unsigned debug(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, unsigned len) {
        tlm::tlm_generic_payload t;
        models::prepare_payload(t, cmd, addr, data, len);
        return socket->transport_dbg(t);
    }
};

/// A target whose every answer the test decides; by default a well-behaved 64-byte memory.
struct fake_target : sc_core::sc_module {
    tlm_utils::simple_target_socket<fake_target> socket;
    uint8_t mem[64] = {};
    std::function<void(tlm::tlm_generic_payload&, sc_core::sc_time&)> on_b;
    std::function<unsigned(tlm::tlm_generic_payload&)> on_dbg;
    std::function<bool(tlm::tlm_generic_payload&, tlm::tlm_dmi&)> on_dmi;
    std::function<tlm::tlm_sync_enum(tlm::tlm_generic_payload&, tlm::tlm_phase&)> on_fw;

    explicit fake_target(const sc_core::sc_module_name& nm)
        : sc_core::sc_module(nm), socket("socket") {
        socket.register_b_transport(this, &fake_target::b_transport);
        socket.register_transport_dbg(this, &fake_target::transport_dbg);
        socket.register_get_direct_mem_ptr(this, &fake_target::get_direct_mem_ptr);
        socket.register_nb_transport_fw(this, &fake_target::nb_transport_fw);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& d) {
        if (on_b) return on_b(t, d);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& t) {
        return on_dbg ? on_dbg(t) : t.get_data_length();
    }
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
        if (on_dmi) return on_dmi(t, dmi);
        dmi.set_dmi_ptr(mem);
        dmi.set_start_address(0);
        dmi.set_end_address(sizeof mem - 1);
        dmi.allow_read_write();
        return true;
    }
    tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& t, tlm::tlm_phase& ph,
                                       sc_core::sc_time&) {
        return on_fw ? on_fw(t, ph) : tlm::TLM_ACCEPTED;
    }
};

/// An AT initiator: the test sends on the forward path and scripts its backward-path answers.
struct at_initiator : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<at_initiator> socket;
    std::function<tlm::tlm_sync_enum(tlm::tlm_generic_payload&, tlm::tlm_phase&)> on_bw;
    explicit at_initiator(const sc_core::sc_module_name& nm)
        : sc_core::sc_module(nm), socket("socket") {
        socket.register_nb_transport_bw(this, &at_initiator::nb_transport_bw);
    }
    tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& t, tlm::tlm_phase& ph,
                                       sc_core::sc_time&) {
        return on_bw ? on_bw(t, ph) : tlm::TLM_ACCEPTED;
    }
    tlm::tlm_sync_enum fw(tlm::tlm_generic_payload& t, tlm::tlm_phase ph,
                          tlm::tlm_phase* back = nullptr) {
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        const tlm::tlm_sync_enum s = socket->nb_transport_fw(t, ph, d);
        if (back) *back = ph;
        return s;
    }
};

std::string describe(const protocol_checker& c) {
    std::ostringstream s;
    s << c.hop() << ": " << c.violation_count() << " violations";
    for (const auto& [rule, n] : c.by_rule()) s << " [" << rule << "] x" << n;
    for (size_t i = 0; i < c.violations().size() && i < 3; ++i)
        s << "\n    " << c.violations()[i].rule << ": " << c.violations()[i].text;
    return s.str();
}

std::string describe_all(const std::vector<const protocol_checker*>& all) {
    std::string s;
    for (const auto* c : all)
        if (c->violation_count()) s += describe(*c) + "\n";
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(protocol)

// Each bad initiator attribute is reported once, under its clause; clean calls add nothing.
BOOST_AUTO_TEST_CASE(checker_flags_bad_initiators) {
    probe p("p");
    protocol_checker chk("chk", "p -> t");
    fake_target t("t");
    p.socket.bind(chk.target_socket);
    chk.initiator_socket.bind(t.socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);

    uint8_t data[16] = {};
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    auto send = [&](const std::function<void(tlm::tlm_generic_payload&)>& spoil) {
        tlm::tlm_generic_payload g;
        models::prepare_payload(g, tlm::TLM_READ_COMMAND, 0, data, 16);
        spoil(g);
        p.socket->b_transport(g, d);
    };
    send([](auto&) {});  // legal
    BOOST_CHECK_EQUAL(chk.violation_count(), 0u);
    send([](auto& g) { g.set_response_status(tlm::TLM_OK_RESPONSE); });
    BOOST_CHECK_EQUAL(chk.count("14.17"), 1u);
    send([](auto& g) { g.set_dmi_allowed(true); });  // a reused payload not reset
    BOOST_CHECK_EQUAL(chk.count("14.16"), 1u);
    send([](auto& g) { g.set_gp_option(tlm::TLM_FULL_PAYLOAD_ACCEPTED); });
    BOOST_CHECK_EQUAL(chk.count("14.8"), 1u);
    send([](auto& g) { g.set_command(test::k_bad_command); });
    BOOST_CHECK_EQUAL(chk.count("14.9"), 1u);
    send([](auto& g) { g.set_data_ptr(nullptr); });
    BOOST_CHECK_EQUAL(chk.count("14.11"), 1u);
    send([](auto& g) {  // IGNORE needs no data: legal
        g.set_command(tlm::TLM_IGNORE_COMMAND);
        g.set_data_ptr(nullptr);
    });
    BOOST_CHECK_EQUAL(chk.count("14.11"), 1u);
    send([](auto& g) { g.set_data_length(0); });
    BOOST_CHECK_EQUAL(chk.count("14.12"), 1u);
    unsigned char be[16];
    std::memset(be, 0xff, sizeof be);
    send([&](auto& g) { g.set_byte_enable_ptr(be); });  // length left 0
    BOOST_CHECK_EQUAL(chk.count("14.14"), 1u);
    be[3] = 0x0f;
    send([&](auto& g) {
        g.set_byte_enable_ptr(be);
        g.set_byte_enable_length(16);
    });
    BOOST_CHECK_EQUAL(chk.count("14.13"), 1u);
    send([](auto& g) { g.set_streaming_width(0); });
    BOOST_CHECK_EQUAL(chk.count("14.15"), 1u);
    // Debug transport: the data pointer must be valid for the length (an IGNORE too).
    tlm::tlm_generic_payload g;
    models::prepare_payload(g, tlm::TLM_IGNORE_COMMAND, 0, nullptr, 16);
    p.socket->transport_dbg(g);
    BOOST_CHECK_EQUAL(chk.count("11.3.4"), 1u);
    BOOST_CHECK_EQUAL(chk.violation_count(), 10u);
    BOOST_CHECK_EQUAL(chk.violations().size(), 10u);
    BOOST_CHECK_EQUAL(chk.violations().front().hop, "p -> t");
    BOOST_TEST_MESSAGE(describe(chk));
}

// What targets (and interconnects) must not do, one class at a time.
BOOST_AUTO_TEST_CASE(checker_flags_bad_targets) {
    probe p("p");
    protocol_checker chk("chk");
    fake_target t("t");
    p.socket.bind(chk.target_socket);
    chk.initiator_socket.bind(t.socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);
    uint8_t data[16] = {};
    auto expect = [&](const char* rule, const std::function<void()>& call) {
        const uint64_t before = chk.count(rule), total = chk.violation_count();
        call();
        BOOST_CHECK_MESSAGE(chk.count(rule) == before + 1 && chk.violation_count() == total + 1,
                            "expected one [" << rule << "]: " << describe(chk));
    };
    auto ok = [](tlm::tlm_generic_payload& g) { g.set_response_status(tlm::TLM_OK_RESPONSE); };

    t.on_b = [&](auto& g, auto&) {
        g.set_command(tlm::TLM_WRITE_COMMAND);
        ok(g);
    };
    expect("14.7", [&] { p.access(tlm::TLM_READ_COMMAND, 0, data, 16); });
    t.on_b = [&](auto& g, auto&) {
        g.set_data_length(8);
        ok(g);
    };
    expect("14.7", [&] { p.access(tlm::TLM_READ_COMMAND, 0, data, 16); });
    t.on_b = [&](auto& g, auto&) {
        g.set_address(g.get_address() - 0x100);  // an interconnect that does not restore it
        ok(g);
    };
    expect("14.10", [&] { p.access(tlm::TLM_READ_COMMAND, 0x100, data, 16); });
    t.on_b = [](auto&, auto&) {};  // never answers
    expect("14.17", [&] { p.access(tlm::TLM_READ_COMMAND, 0, data, 16); });
    t.on_b = [&](auto& g, sc_core::sc_time& d) {
        d = sc_core::SC_ZERO_TIME;
        ok(g);
    };
    expect("11.1.3", [&] {
        tlm::tlm_generic_payload g;
        models::prepare_payload(g, tlm::TLM_READ_COMMAND, 0, data, 16);
        sc_core::sc_time d(10, sc_core::SC_NS);
        p.socket->b_transport(g, d);
    });
    t.on_b = nullptr;

    t.on_dbg = [](auto& g) { return g.get_data_length() + 4; };
    expect("11.3.4", [&] { p.debug(tlm::TLM_READ_COMMAND, 0, data, 16); });
    t.on_dbg = nullptr;

    tlm::tlm_dmi dmi;
    t.on_dmi = [&](auto&, tlm::tlm_dmi& m) {  // a range past the requested address
        m.set_dmi_ptr(t.mem);
        m.set_start_address(0);
        m.set_end_address(31);
        m.allow_read_write();
        return true;
    };
    expect("11.2", [&] { p.dmi(40, dmi); });
    t.on_dmi = [&](auto&, tlm::tlm_dmi& m) {  // start after end
        m.set_start_address(64);
        m.set_end_address(63);
        return false;
    };
    expect("11.2", [&] { p.dmi(64, dmi); });
    t.on_dmi = [&](auto&, tlm::tlm_dmi& m) {  // read granted for a write request
        m.set_dmi_ptr(t.mem);
        m.set_start_address(0);
        m.set_end_address(63);
        m.allow_read();
        return true;
    };
    expect("11.2", [&] { p.dmi(8, dmi, tlm::TLM_WRITE_COMMAND); });
    t.on_dmi = nullptr;
    tlm::tlm_dmi fresh;
    BOOST_CHECK(p.dmi(63, fresh));  // the default target is well behaved
    expect("11.2", [&] { t.socket->invalidate_direct_mem_ptr(100, 50); });
    BOOST_CHECK_EQUAL(chk.violation_count(), 10u);
    BOOST_TEST_MESSAGE(describe(chk));
}

// Non-blocking transport: legal phase sequences pass, each broken rule is reported.
BOOST_AUTO_TEST_CASE(checker_follows_nb_phases) {
    at_initiator ini("ini");
    protocol_checker chk("chk");
    fake_target tgt("tgt");
    ini.socket.bind(chk.target_socket);
    chk.initiator_socket.bind(tgt.socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);

    uint8_t data[16] = {};
    tlm::tlm_generic_payload t1, t2;
    auto fresh = [&](tlm::tlm_generic_payload& g) {
        models::prepare_payload(g, tlm::TLM_WRITE_COMMAND, 0, data, 16);
    };
    auto bw = [&](tlm::tlm_generic_payload& g, tlm::tlm_phase ph, tlm::tlm_phase* back = nullptr) {
        sc_core::sc_time d = sc_core::SC_ZERO_TIME;
        const tlm::tlm_sync_enum s = tgt.socket->nb_transport_bw(g, ph, d);
        if (back) *back = ph;
        return s;
    };
    auto ok = [](tlm::tlm_generic_payload& g) { g.set_response_status(tlm::TLM_OK_RESPONSE); };

    // Four-phase, all TLM_ACCEPTED.
    fresh(t1);
    BOOST_CHECK_EQUAL(ini.fw(t1, tlm::BEGIN_REQ), tlm::TLM_ACCEPTED);
    bw(t1, tlm::END_REQ);
    ok(t1);
    bw(t1, tlm::BEGIN_RESP);
    tgt.on_fw = [](auto&, auto&) { return tlm::TLM_COMPLETED; };
    ini.fw(t1, tlm::END_RESP);
    // END_REQ on the return path, then the response completed by the initiator's TLM_UPDATED.
    fresh(t1);
    tgt.on_fw = [](auto&, tlm::tlm_phase& ph) {
        ph = tlm::END_REQ;
        return tlm::TLM_UPDATED;
    };
    ini.fw(t1, tlm::BEGIN_REQ);
    ini.on_bw = [](auto&, tlm::tlm_phase& ph) {
        ph = tlm::END_RESP;
        return tlm::TLM_UPDATED;
    };
    ok(t1);
    bw(t1, tlm::BEGIN_RESP);
    ini.on_bw = nullptr;
    // BEGIN_RESP straight on the return path (implicit END_REQ), END_RESP accepted.
    fresh(t1);
    tgt.on_fw = [&](auto& g, tlm::tlm_phase& ph) {
        if (ph != tlm::BEGIN_REQ) return tlm::TLM_ACCEPTED;
        ok(g);
        ph = tlm::BEGIN_RESP;
        return tlm::TLM_UPDATED;
    };
    ini.fw(t1, tlm::BEGIN_REQ);
    ini.fw(t1, tlm::END_RESP);
    // Completed at once.
    fresh(t1);
    tgt.on_fw = [&](auto& g, auto&) {
        ok(g);
        return tlm::TLM_COMPLETED;
    };
    ini.fw(t1, tlm::BEGIN_REQ);
    // Two transactions pipelined: the second request after END_REQ of the first.
    tgt.on_fw = nullptr;
    fresh(t1);
    fresh(t2);
    ini.fw(t1, tlm::BEGIN_REQ);
    bw(t1, tlm::END_REQ);
    ini.fw(t2, tlm::BEGIN_REQ);
    bw(t2, tlm::END_REQ);
    ok(t1);
    bw(t1, tlm::BEGIN_RESP);
    ini.fw(t1, tlm::END_RESP);
    ok(t2);
    bw(t2, tlm::BEGIN_RESP);
    ini.fw(t2, tlm::END_RESP);
    BOOST_CHECK_MESSAGE(chk.violation_count() == 0, describe(chk));
    BOOST_CHECK_EQUAL(chk.calls(), 17u);

    // Request exclusion: BEGIN_REQ before the previous END_REQ.
    fresh(t1);
    fresh(t2);
    ini.fw(t1, tlm::BEGIN_REQ);
    ini.fw(t2, tlm::BEGIN_REQ);
    BOOST_CHECK_EQUAL(chk.count("15.2-exclusion"), 1u);
    bw(t1, tlm::END_REQ);
    bw(t2, tlm::END_REQ);
    // Response exclusion: a second BEGIN_RESP before END_RESP of the first.
    ok(t1);
    ok(t2);
    bw(t1, tlm::BEGIN_RESP);
    bw(t2, tlm::BEGIN_RESP);
    BOOST_CHECK_EQUAL(chk.count("15.2-exclusion"), 2u);
    ini.fw(t1, tlm::END_RESP);
    ini.fw(t2, tlm::END_RESP);
    BOOST_CHECK_EQUAL(chk.violation_count(), 2u);
    // END_RESP with no response begun; END_REQ for no request.
    fresh(t1);
    ini.fw(t1, tlm::BEGIN_REQ);
    ini.fw(t1, tlm::END_RESP);
    BOOST_CHECK_EQUAL(chk.count("15.2-sequence"), 1u);
    bw(t1, tlm::END_REQ);
    bw(t1, tlm::END_REQ);  // twice
    BOOST_CHECK_EQUAL(chk.count("15.2-sequence"), 2u);
    // A response begun without a response status.
    t1.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    bw(t1, tlm::BEGIN_RESP);
    BOOST_CHECK_EQUAL(chk.count("14.17"), 1u);
    ini.fw(t1, tlm::END_RESP);
    // TLM_UPDATED with a phase that cannot follow BEGIN_REQ.
    fresh(t2);
    tgt.on_fw = [](auto&, tlm::tlm_phase& ph) {
        ph = tlm::END_RESP;
        return tlm::TLM_UPDATED;
    };
    ini.fw(t2, tlm::BEGIN_REQ);
    BOOST_CHECK_EQUAL(chk.count("15.2-sequence"), 3u);
    tgt.on_fw = nullptr;
    // A response for a transaction never requested.
    tlm::tlm_generic_payload t3;
    models::prepare_payload(t3, tlm::TLM_READ_COMMAND, 0, data, 16);
    bw(t3, tlm::BEGIN_RESP);  // nothing of t3 was ever requested
    BOOST_CHECK_EQUAL(chk.count("15.2-sequence"), 4u);
    BOOST_CHECK_EQUAL(chk.violation_count(), 7u);
    BOOST_TEST_MESSAGE(describe(chk));
}

// An L2 that accepts more than GM holds: GM rejects after the lookup and the L2 keeps nothing.
// Timing-only, so a line kept by mistake would answer a later read as an OK hit.
BOOST_AUTO_TEST_CASE(l2_keeps_no_line_of_a_write_gm_rejects) {
    models::gm_params gp;
    gp.capacity = 1 << 20;
    gp.bandwidth = 1e11;
    gp.latency_ps = 1000;
    models::l2_params lp;
    lp.size = 64 * 1024;
    lp.line_bytes = 512;
    lp.ways = 4;
    lp.bandwidth = 1e12;
    lp.functional = false;
    models::gm_memory gm("gm", gp);
    models::l2_cache l2("l2", lp, 2 << 20);
    probe p("p");
    protocol_checker to_l2("to_l2"), to_gm("to_gm");
    p.socket.bind(to_l2.target_socket);
    to_l2.initiator_socket.bind(l2.target_socket);
    l2.gm_socket.bind(to_gm.target_socket);
    to_gm.initiator_socket.bind(gm.target_socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);

    uint8_t buf[1024] = {};
    const uint64_t beyond = 1536 << 10;  // inside the L2's range, outside GM
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_WRITE_COMMAND, beyond, buf, 1024),
                      tlm::TLM_ADDRESS_ERROR_RESPONSE);
    BOOST_CHECK_EQUAL(l2.hits() + l2.misses(), 0u);
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_READ_COMMAND, beyond, buf, 1024),
                      tlm::TLM_ADDRESS_ERROR_RESPONSE);
    BOOST_CHECK_EQUAL(l2.hits() + l2.misses(), 0u);
    // Legal traffic: a write allocates two lines (misses), the read of them hits both.
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_WRITE_COMMAND, 4096, buf, 1024), tlm::TLM_OK_RESPONSE);
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_READ_COMMAND, 4096, buf, 1024), tlm::TLM_OK_RESPONSE);
    BOOST_CHECK_EQUAL(l2.misses(), 2u);
    BOOST_CHECK_EQUAL(l2.hits(), 2u);
    // Rejected by the L2 itself, hit or not: GM's answer, no lookup.
    unsigned char be[1024];
    std::memset(be, 0xff, sizeof be);
    for (uint64_t at : {uint64_t{4096}, uint64_t{8192}}) {
        BOOST_CHECK_EQUAL(p.access(tlm::TLM_READ_COMMAND, at, buf, 1024, be),
                          tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        BOOST_CHECK_EQUAL(p.access(tlm::TLM_WRITE_COMMAND, at, buf, 1024, nullptr, 512),
                          tlm::TLM_BURST_ERROR_RESPONSE);
        BOOST_CHECK_EQUAL(p.access(tlm::TLM_IGNORE_COMMAND, at, nullptr, 1024),
                          tlm::TLM_OK_RESPONSE);
    }
    BOOST_CHECK_EQUAL(l2.misses(), 2u);
    BOOST_CHECK_EQUAL(l2.hits(), 2u);
    BOOST_CHECK_EQUAL(p.access(tlm::TLM_READ_COMMAND, 8192, buf, 512), tlm::TLM_OK_RESPONSE);
    BOOST_CHECK_EQUAL(l2.misses(), 3u);  // 8192 was never allocated
    BOOST_CHECK_MESSAGE(to_l2.violation_count() + to_gm.violation_count() == 0,
                        describe(to_l2) << "\n"
                                        << describe(to_gm));
    BOOST_CHECK_GT(to_gm.calls(), 0u);
}

// A memory target bound straight to its socket serves nb_transport_fw by early completion: a
// BEGIN_REQ returns TLM_COMPLETED with the response in the payload and the access's time in the
// delay, the time b_transport gives the same access on an identical target, and the checker
// between them sees no broken rule.
BOOST_AUTO_TEST_CASE(memory_targets_complete_nb_requests_early) {
    models::gm_params gp;
    gp.capacity = 1 << 20;
    gp.channels = 2;
    gp.bandwidth = 1e11;
    gp.latency_ps = 1000;
    models::gm_memory gm("gm", gp), twin("twin", gp);
    at_initiator ini("ini");
    probe p("p");
    protocol_checker chk("chk");
    ini.socket.bind(chk.target_socket);
    chk.initiator_socket.bind(gm.target_socket);
    p.socket.bind(twin.target_socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);

    uint8_t out[256], in[256] = {};
    for (unsigned i = 0; i < sizeof out; ++i) out[i] = static_cast<uint8_t>(7 * i + 1);
    auto nb = [&](tlm::tlm_command cmd, uint8_t* data, sc_core::sc_time& d) {
        tlm::tlm_generic_payload t;
        models::prepare_payload(t, cmd, 4096, data, sizeof out);
        tlm::tlm_phase ph = tlm::BEGIN_REQ;
        BOOST_CHECK_EQUAL(ini.socket->nb_transport_fw(t, ph, d), tlm::TLM_COMPLETED);
        BOOST_CHECK_EQUAL(t.get_response_status(), tlm::TLM_OK_RESPONSE);
    };
    auto blocking = [&](tlm::tlm_command cmd, uint8_t* data, sc_core::sc_time& d) {
        tlm::tlm_generic_payload t;
        models::prepare_payload(t, cmd, 4096, data, sizeof out);
        p.socket->b_transport(t, d);
        BOOST_CHECK_EQUAL(t.get_response_status(), tlm::TLM_OK_RESPONSE);
    };
    sc_core::sc_time d_nb = sc_core::SC_ZERO_TIME, d_b = sc_core::SC_ZERO_TIME;
    nb(tlm::TLM_WRITE_COMMAND, out, d_nb);
    blocking(tlm::TLM_WRITE_COMMAND, out, d_b);
    // 256 B over one channel's 50 GB/s, then the latency.
    BOOST_CHECK_EQUAL(d_nb.value(), 5120u + 1000u);
    BOOST_CHECK(d_nb == d_b);
    d_nb = d_b = sc_core::SC_ZERO_TIME;
    nb(tlm::TLM_READ_COMMAND, in, d_nb);
    BOOST_CHECK_EQUAL(std::memcmp(in, out, sizeof out), 0);
    blocking(tlm::TLM_READ_COMMAND, in, d_b);
    BOOST_CHECK(d_nb == d_b);
    BOOST_CHECK_MESSAGE(chk.violation_count() == 0, describe(chk));
    BOOST_CHECK_EQUAL(chk.calls(), 2u);
}

// The router hands back DMI ranges in the initiator's view, clipped to the region, for a grant
// and for a denial; invalidations likewise.
BOOST_AUTO_TEST_CASE(router_dmi_ranges_contain_the_address) {
    models::router r("r");
    fake_target t("t");  // grants [0, 63]; the region is smaller
    probe p("p");
    protocol_checker chk("chk");
    p.socket.bind(chk.target_socket);
    chk.initiator_socket.bind(r.target_socket);
    r.map(0x1000, 0x20, "t");
    r.initiator_socket.bind(t.socket);
    sc_core::sc_start(sc_core::SC_ZERO_TIME);

    tlm::tlm_dmi granted;
    BOOST_CHECK(p.dmi(0x1010, granted));
    BOOST_CHECK_EQUAL(granted.get_start_address(), 0x1000u);
    BOOST_CHECK_EQUAL(granted.get_end_address(), 0x101fu);
    t.on_dmi = [](auto&, tlm::tlm_dmi&) { return false; };  // denied, range left as it came
    tlm::tlm_dmi denied;
    BOOST_CHECK(!p.dmi(0x1010, denied));
    BOOST_CHECK_EQUAL(denied.get_start_address(), 0x1000u);
    BOOST_CHECK_EQUAL(denied.get_end_address(), 0x101fu);
    tlm::tlm_dmi above, below;
    BOOST_CHECK(!p.dmi(0x3000, above));
    BOOST_CHECK_EQUAL(above.get_start_address(), 0x1020u);
    BOOST_CHECK(!p.dmi(0x10, below));
    BOOST_CHECK_EQUAL(below.get_end_address(), 0xfffu);
    t.socket->invalidate_direct_mem_ptr(0, ~sc_dt::uint64{0});  // everything the target has
    BOOST_CHECK_EQUAL(chk.calls(), 5u);
    BOOST_CHECK_MESSAGE(chk.violation_count() == 0, describe(chk));
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

uint64_t lines_of(platform::chip& c) {
    return c.l2() ? c.l2()->hits() + c.l2()->misses() : 0;
}

/// Builds `cfg` with a checker on every hop, drives it with legal traffic on every path and
/// with edge cases, and checks the answers and that no hop broke a rule.
void drive_checked_chip(const platform::platform_config& cfg, bool run_kernel) {
    platform::simulation sim(cfg, {}, {}, platform::chip_options{true});
    platform::chip& chip = sim.get_chip();
    // Edge cases come from probes with checkers of their own: into the NoC, and into core 0's
    // first local buffer.
    probe noc_probe("noc_probe"), buf_probe("buf_probe");
    protocol_checker noc_chk("noc_probe_check", "noc_probe -> chip.noc");
    protocol_checker buf_chk("buf_probe_check", "buf_probe -> buffer");
    noc_probe.socket.bind(noc_chk.target_socket);
    noc_chk.initiator_socket.bind(chip.noc().target_socket);
    models::local_buffer* lb = nullptr;
    for (mem_space s : {mem_space::ub, mem_space::l1})
        if (!lb) lb = chip.core(0).buffer(s);
    BOOST_REQUIRE(lb);
    buf_probe.socket.bind(buf_chk.target_socket);
    buf_chk.initiator_socket.bind(lb->target_socket);

    const uint64_t cap = cfg.gm.capacity, host_at = 0x10000, len = 64 * 1024;
    const uint64_t hit = host_at, cold = 48ull << 20;  // cold: no one touches it before
    uint64_t legal_violations = ~uint64_t{0}, paths = 0;
    std::vector<const protocol_checker*> all;
    BOOST_REQUIRE_MESSAGE(sim.run([&](platform::chip& c, auto&) {
        // Host copies both ways.
        std::vector<uint8_t> src(len), back(len);
        for (uint64_t i = 0; i < len; ++i) src[i] = static_cast<uint8_t>(i * 7 + 3);
        c.host().to_device(host_at, src.data(), len);
        c.host().to_host(back.data(), host_at, len);
        BOOST_CHECK(back == src);
        // SDMA copy and memset.
        c.sdma().copy(0x40000, host_at, len);
        c.gm().read(0x40000, back.data(), len);
        BOOST_CHECK(back == src);
        c.sdma().fill(0x60000, 0xab, 16384);
        std::vector<uint8_t> filled(16384);
        c.gm().read(0x60000, filled.data(), filled.size());
        BOOST_CHECK(filled == std::vector<uint8_t>(16384, 0xab));
        // A DMA on every path of every core, each GM side read twice (an L2 miss, then a hit).
        for (unsigned ci = 0; ci < c.cores().size(); ++ci) {
            models::ai_core& core = c.core(ci);
            const uint64_t gm = (1ull << 20) + ci * 65536ull;
            for (auto& e : core.engines())
                for (size_t s = 0; s < size_t(mem_space::count); ++s)
                    for (size_t d = 0; d < size_t(mem_space::count); ++d) {
                        if (!e->has_path(mem_space(s), mem_space(d))) continue;
                        const auto r = test::copy(mem_space(s), s == 0 ? gm : 0, mem_space(d),
                                                  d == 0 ? gm + 8192 : 0, 512);
                        core.issue_copy(r);
                        core.issue_copy(r);
                        core.wait_idle();
                        BOOST_CHECK_MESSAGE(core.fault().empty(), core.fault());
                        ++paths;
                    }
        }
        // Load3D gathers through DMI and books L1 with a timing-only (IGNORE) access.
        if (c.core(0).engine(models::pipe_id::MTE1) &&
            c.core(0).engine(models::pipe_id::MTE1)->has_path(mem_space::l1, mem_space::l0a)) {
            models::dma_request r;
            r.src_space = mem_space::l1;
            r.dst_space = mem_space::l0a;
            r.conv = models::layout_conv::img2col;
            r.rows = 16;
            r.row_bytes = 32;
            r.fm.channels = 16;
            r.fm.height = r.fm.width = r.fm.out_w = 4;
            c.core(0).issue_copy(r);
            c.core(0).wait_idle();
            BOOST_CHECK_MESSAGE(c.core(0).fault().empty(), c.core(0).fault());
        }
        if (run_kernel) {  // nd2nz, fractal loads, mmad, nz2nd through a real kernel
            const auto a = test::random_half(64 * 64, 1), b = test::random_half(64 * 64, 2);
            std::vector<uint16_t> out;
            const auto rec = test::run_matmul(c, 64, 64, 64, a, b, out);
            BOOST_CHECK_MESSAGE(rec.fault.empty(), rec.fault);
            BOOST_CHECK_LE(test::matmul_error(64, 64, 64, a, b, out), 2e-3);
        }
        if (c.l2()) {
            BOOST_CHECK_GT(c.l2()->hits(), 0u);
            BOOST_CHECK_GT(c.l2()->misses(), 0u);
        }

        // Edge cases: the same answer on an L2 hit and on the way to GM, nothing allocated.
        uint8_t buf[512] = {};
        unsigned char be[512];
        std::memset(be, 0xff, sizeof be);
        BOOST_CHECK_EQUAL(noc_probe.access(tlm::TLM_READ_COMMAND, hit, buf, 512),
                          tlm::TLM_OK_RESPONSE);
        for (uint64_t at : {hit, cold}) {
            BOOST_TEST_CONTEXT("GM address " << at) {
                const uint64_t looked_up = lines_of(c);
                BOOST_CHECK_EQUAL(noc_probe.access(tlm::TLM_READ_COMMAND, at, buf, 512, be),
                                  tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
                BOOST_CHECK_EQUAL(noc_probe.access(tlm::TLM_WRITE_COMMAND, at, buf, 512, be),
                                  tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
                BOOST_CHECK_EQUAL(
                    noc_probe.access(tlm::TLM_READ_COMMAND, at, buf, 512, nullptr, 256),
                    tlm::TLM_BURST_ERROR_RESPONSE);
                BOOST_CHECK_EQUAL(
                    noc_probe.access(tlm::TLM_WRITE_COMMAND, at, buf, 512, nullptr, 64),
                    tlm::TLM_BURST_ERROR_RESPONSE);
                BOOST_CHECK_EQUAL(noc_probe.access(tlm::TLM_IGNORE_COMMAND, at, nullptr, 512),
                                  tlm::TLM_OK_RESPONSE);
                // Rejected (and timing-only) accesses look nothing up in L2.
                BOOST_CHECK_EQUAL(lines_of(c), looked_up);
            }
        }
        if (c.l2()) {  // the rejected write to `cold` left no line: reading it misses
            const uint64_t m0 = c.l2()->misses(), h0 = c.l2()->hits();
            BOOST_CHECK_EQUAL(noc_probe.access(tlm::TLM_READ_COMMAND, cold, buf, 512),
                              tlm::TLM_OK_RESPONSE);
            BOOST_CHECK_EQUAL(c.l2()->misses() - m0, 512u / cfg.l2.line_bytes);
            BOOST_CHECK_EQUAL(c.l2()->hits(), h0);
        }
        BOOST_CHECK_EQUAL(noc_probe.access(tlm::TLM_READ_COMMAND, cap - 512, buf, 512),
                          tlm::TLM_OK_RESPONSE);
        BOOST_CHECK_EQUAL(noc_probe.access(tlm::TLM_READ_COMMAND, cap - 256, buf, 512),
                          tlm::TLM_ADDRESS_ERROR_RESPONSE);
        BOOST_CHECK_EQUAL(noc_probe.access(tlm::TLM_WRITE_COMMAND, cap, buf, 512),
                          tlm::TLM_ADDRESS_ERROR_RESPONSE);
        BOOST_CHECK_EQUAL(noc_probe.access(tlm::TLM_IGNORE_COMMAND, cap - 256, nullptr, 512),
                          tlm::TLM_ADDRESS_ERROR_RESPONSE);
        BOOST_CHECK_EQUAL(noc_probe.debug(tlm::TLM_READ_COMMAND, cap - 2, buf, 4), 2u);
        tlm::tlm_dmi dmi;
        BOOST_CHECK(noc_probe.dmi(cap - 1, dmi));
        BOOST_CHECK(dmi.get_start_address() <= cap - 1 && dmi.get_end_address() == cap - 1);
        tlm::tlm_dmi denied;
        BOOST_CHECK(!noc_probe.dmi(cap, denied));
        BOOST_CHECK(denied.get_start_address() <= cap && cap <= denied.get_end_address());
        // The local buffer: the same classes, and DMI only for what exists.
        const uint64_t size = lb->size();
        BOOST_CHECK_EQUAL(buf_probe.access(tlm::TLM_IGNORE_COMMAND, 0, nullptr, 512),
                          tlm::TLM_OK_RESPONSE);
        BOOST_CHECK_EQUAL(buf_probe.access(tlm::TLM_READ_COMMAND, size - 256, buf, 512),
                          tlm::TLM_ADDRESS_ERROR_RESPONSE);
        BOOST_CHECK_EQUAL(buf_probe.access(tlm::TLM_READ_COMMAND, 0, buf, 512, be),
                          tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        BOOST_CHECK_EQUAL(buf_probe.access(tlm::TLM_WRITE_COMMAND, 0, buf, 512, nullptr, 128),
                          tlm::TLM_BURST_ERROR_RESPONSE);
        tlm::tlm_dmi ldmi;
        BOOST_CHECK(buf_probe.dmi(size - 1, ldmi, tlm::TLM_WRITE_COMMAND));
        BOOST_CHECK(ldmi.get_start_address() == 0 && ldmi.get_end_address() == size - 1);
        tlm::tlm_dmi lden;
        BOOST_CHECK(!buf_probe.dmi(size, lden));
        BOOST_CHECK(!buf_probe.dmi(size + 4096, lden));
        BOOST_CHECK(lden.get_start_address() <= size + 4096 &&
                    size + 4096 <= lden.get_end_address());

        all = c.protocol_checkers();
        all.push_back(&noc_chk);
        all.push_back(&buf_chk);
        legal_violations = 0;
        for (const auto* k : all) legal_violations += k->violation_count();
        BOOST_TEST_MESSAGE("before the bad command:\n" << describe_all(all));

        // An unknown command: a COMMAND_ERROR on both paths, reported where it enters.
        for (uint64_t at : {hit, cold})
            BOOST_CHECK_EQUAL(noc_probe.access(test::k_bad_command, at, buf, 512),
                              tlm::TLM_COMMAND_ERROR_RESPONSE);
    }),
                          sim.error());
    BOOST_CHECK_GT(paths, 3u);
    BOOST_CHECK_MESSAGE(legal_violations == 0, describe_all(all));

    // Every hop has its checker, and every hop the traffic crossed saw it.
    std::map<std::string, const protocol_checker*> by_hop;
    for (const auto* k : chip.protocol_checkers()) by_hop[k->hop()] = k;
    size_t expected = 2 + (chip.l2() ? 2 : 1);
    auto seen = [&](const std::string& hop, bool used) {
        BOOST_TEST_CONTEXT(hop) {
            BOOST_REQUIRE(by_hop.count(hop));
            if (used) BOOST_CHECK_GT(by_hop[hop]->calls(), 0u);
        }
    };
    const std::string noc = chip.noc().name();
    seen(std::string(chip.host().name()) + " -> " + noc, true);
    seen(std::string(chip.sdma().name()) + " -> " + noc, true);
    if (chip.l2()) {
        seen(noc + " -> " + chip.l2()->name(), true);
        seen(std::string(chip.l2()->name()) + " -> " + chip.gm().name(), true);
    } else {
        seen(noc + " -> " + chip.gm().name(), true);
    }
    for (auto& core : chip.cores())
        for (auto& e : core->engines()) {
            bool gm_used = false;
            for (size_t b = 1; b < size_t(mem_space::count); ++b) {
                models::local_buffer* buf = core->buffer(mem_space(b));
                if (!buf) continue;
                bool used = false;
                for (size_t x = 0; x < size_t(mem_space::count); ++x)
                    used |= e->has_path(mem_space(b), mem_space(x)) ||
                            e->has_path(mem_space(x), mem_space(b));
                gm_used |= e->has_path(mem_space::gm, mem_space(b)) ||
                           e->has_path(mem_space(b), mem_space::gm);
                seen(std::string(e->name()) + " -> " + buf->name(), used);
                ++expected;
            }
            seen(std::string(e->name()) + " -> " + noc, gm_used);
            ++expected;
        }
    BOOST_CHECK_EQUAL(by_hop.size(), expected);
    // The unknown commands: reported by the probe's checker and by the first checker behind
    // the NoC (the target rejects them there), nowhere else.
    BOOST_CHECK_EQUAL(noc_chk.count("14.9"), 2u);
    const std::string first_after_noc =
        noc + " -> " + (chip.l2() ? chip.l2()->name() : chip.gm().name());
    BOOST_CHECK_EQUAL(by_hop[first_after_noc]->count("14.9"), 2u);
    BOOST_CHECK_EQUAL(chip.protocol_violations(), 2u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(protocol)

BOOST_AUTO_TEST_CASE(every_hop_of_tiny_keeps_the_contract) {
    drive_checked_chip(test::tiny(), true);
}

BOOST_AUTO_TEST_CASE(every_hop_of_tiny_without_l2_keeps_the_contract) {
    drive_checked_chip(test::tiny({"l2.enabled=false"}), false);
}

BOOST_AUTO_TEST_CASE(every_hop_of_ascend910_keeps_the_contract) {
    drive_checked_chip(platform::load_platform("ascend910", {}), false);
}

BOOST_AUTO_TEST_CASE(every_hop_of_ascend910b1_keeps_the_contract) {
    drive_checked_chip(platform::load_platform("ascend910b1", {}), false);
}

BOOST_AUTO_TEST_SUITE_END()
