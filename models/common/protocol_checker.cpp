#include "models/common/protocol_checker.h"

#include <cstdio>
#include <utility>

namespace npusim::models {

namespace {

std::string hex(uint64_t v) {
    char s[24];
    std::snprintf(s, sizeof s, "0x%llx", static_cast<unsigned long long>(v));
    return s;
}

const char* command_name(tlm::tlm_command c) {
    switch (c) {
        case tlm::TLM_READ_COMMAND:
            return "READ";
        case tlm::TLM_WRITE_COMMAND:
            return "WRITE";
        case tlm::TLM_IGNORE_COMMAND:
            return "IGNORE";
    }
    return "invalid";
}

}  // namespace

protocol_checker::protocol_checker(const sc_core::sc_module_name& nm, std::string hop)
    : sc_core::sc_module(nm),
      target_socket("target_socket"),
      initiator_socket("initiator_socket"),
      m_hop(hop.empty() ? std::string(name()) : std::move(hop)) {
    target_socket.register_b_transport(this, &protocol_checker::b_transport);
    target_socket.register_nb_transport_fw(this, &protocol_checker::nb_transport_fw);
    target_socket.register_transport_dbg(this, &protocol_checker::transport_dbg);
    target_socket.register_get_direct_mem_ptr(this, &protocol_checker::get_direct_mem_ptr);
    initiator_socket.register_nb_transport_bw(this, &protocol_checker::nb_transport_bw);
    initiator_socket.register_invalidate_direct_mem_ptr(
        this, &protocol_checker::invalidate_direct_mem_ptr);
}

uint64_t protocol_checker::count(const std::string& rule) const {
    auto it = m_by_rule.find(rule);
    return it == m_by_rule.end() ? 0 : it->second;
}

void protocol_checker::clear() {
    m_count = m_calls = 0;
    m_by_rule.clear();
    m_records.clear();
}

void protocol_checker::report(const char* rule, const std::string& text) {
    ++m_count;
    ++m_by_rule[rule];
    if (m_records.size() < max_records) m_records.push_back({rule, text, m_hop});
}

protocol_checker::snapshot protocol_checker::take(const tlm::tlm_generic_payload& t) {
    return {t.get_command(),        t.get_address(),         t.get_data_ptr(),
            t.get_data_length(),    t.get_byte_enable_ptr(), t.get_byte_enable_length(),
            t.get_streaming_width()};
}

void protocol_checker::check_request(const tlm::tlm_generic_payload& t, const char* call) {
    const std::string at = std::string(call) + " at " + hex(t.get_address()) + ": ";
    if (t.get_response_status() != tlm::TLM_INCOMPLETE_RESPONSE)
        report("14.17", at + "response status is " + t.get_response_string() +
                            " on entry; the initiator must set TLM_INCOMPLETE_RESPONSE");
    if (t.is_dmi_allowed())
        report("14.16", at + "DMI allowed is true on entry; the initiator must reset it to false");
    if (t.get_gp_option() == tlm::TLM_FULL_PAYLOAD_ACCEPTED)
        report("14.8", at + "option is TLM_FULL_PAYLOAD_ACCEPTED on entry; only a target sets it");
    const tlm::tlm_command cmd = t.get_command();
    if (cmd != tlm::TLM_READ_COMMAND && cmd != tlm::TLM_WRITE_COMMAND &&
        cmd != tlm::TLM_IGNORE_COMMAND)
        report("14.9", at + "command " + std::to_string(int(cmd)) + " is not a tlm_command");
    if (t.get_data_ptr() == nullptr && cmd != tlm::TLM_IGNORE_COMMAND)
        report("14.11", at + "null data pointer for a " + command_name(cmd));
    if (t.get_data_length() == 0) report("14.12", at + "data length is 0");
    if (const unsigned char* be = t.get_byte_enable_ptr()) {
        const unsigned n = t.get_byte_enable_length();
        if (n == 0) report("14.14", at + "byte enable pointer set with a byte enable length of 0");
        for (unsigned i = 0; i < n; ++i)
            if (be[i] != TLM_BYTE_DISABLED && be[i] != TLM_BYTE_ENABLED) {
                report("14.13", at + "byte enable " + std::to_string(i) + " is " + hex(be[i]) +
                                    ", not 0x00 or 0xff");
                break;
            }
    }
    if (t.get_streaming_width() == 0) report("14.15", at + "streaming width is 0");
}

void protocol_checker::check_unchanged(const snapshot& b, const tlm::tlm_generic_payload& t,
                                       const char* call, bool with_address) {
    const std::string at = std::string(call) + " at " + hex(b.address) + ": ";
    auto changed = [&](const char* what) {
        report("14.7", at + what + " changed downstream; neither interconnect nor target may");
    };
    if (t.get_command() != b.command) changed("command");
    if (t.get_data_ptr() != b.data) changed("data pointer");
    if (t.get_data_length() != b.length) changed("data length");
    if (t.get_byte_enable_ptr() != b.byte_enable) changed("byte enable pointer");
    if (t.get_byte_enable_length() != b.byte_enable_length) changed("byte enable length");
    if (t.get_streaming_width() != b.streaming_width) changed("streaming width");
    if (with_address && t.get_address() != b.address)
        report("14.10", at + "address is " + hex(t.get_address()) +
                            " on the way back; an interconnect must restore it");
}

void protocol_checker::check_response_set(const tlm::tlm_generic_payload& t, const char* call) {
    if (t.get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE)
        report("14.17", std::string(call) + " at " + hex(t.get_address()) +
                            ": the target answered without setting the response status");
}

void protocol_checker::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    ++m_calls;
    check_request(trans, "b_transport");
    if (m_nb.count(&trans))
        report("15.2-sequence", "b_transport at " + hex(trans.get_address()) +
                                    " with a payload still open on nb_transport");
    const snapshot before = take(trans);
    const sc_core::sc_time delay_in = delay;
    initiator_socket->b_transport(trans, delay);
    check_unchanged(before, trans, "b_transport", true);
    check_response_set(trans, "b_transport");
    if (delay < delay_in)
        report("11.1.3", "b_transport at " + hex(before.address) + ": annotated delay went from " +
                             delay_in.to_string() + " down to " + delay.to_string());
}

unsigned int protocol_checker::transport_dbg(tlm::tlm_generic_payload& trans) {
    ++m_calls;
    const std::string at = "transport_dbg at " + hex(trans.get_address()) + ": ";
    const tlm::tlm_command cmd = trans.get_command();
    if (cmd != tlm::TLM_READ_COMMAND && cmd != tlm::TLM_WRITE_COMMAND &&
        cmd != tlm::TLM_IGNORE_COMMAND)
        report("14.9", at + "command " + std::to_string(int(cmd)) + " is not a tlm_command");
    if (trans.get_data_ptr() == nullptr && trans.get_data_length() > 0)
        report("11.3.4", at + "null data pointer for " + std::to_string(trans.get_data_length()) +
                             " bytes (a " + command_name(cmd) +
                             "); the data pointer must be valid for the data length");
    if (trans.get_gp_option() == tlm::TLM_FULL_PAYLOAD_ACCEPTED)
        report("14.8", at + "option is TLM_FULL_PAYLOAD_ACCEPTED on entry; only a target sets it");
    const snapshot before = take(trans);
    const unsigned int n = initiator_socket->transport_dbg(trans);
    if (trans.get_command() != before.command || trans.get_data_ptr() != before.data ||
        trans.get_data_length() != before.length)
        report("14.7", at + "command, data pointer or data length changed downstream");
    if (trans.get_address() != before.address)
        report("14.10", at + "address not restored on the way back");
    if (n > before.length)
        report("11.3.4", at + "returned " + std::to_string(n) + " bytes for a data length of " +
                             std::to_string(before.length));
    return n;
}

void protocol_checker::check_dmi_range(const tlm::tlm_dmi& dmi, uint64_t address, bool granted,
                                       tlm::tlm_command command) {
    const std::string at = std::string("get_direct_mem_ptr at ") + hex(address) +
                           (granted ? " (granted): " : " (denied): ");
    const uint64_t start = dmi.get_start_address(), end = dmi.get_end_address();
    if (start > end) {
        report("11.2", at + "range [" + hex(start) + ", " + hex(end) + "] is empty");
        return;
    }
    if (address < start || address > end)
        report("11.2", at + "range [" + hex(start) + ", " + hex(end) +
                           "] does not contain the requested address");
    if (!granted) return;
    if (dmi.get_dmi_ptr() == nullptr) report("11.2", at + "null DMI pointer");
    if ((command == tlm::TLM_READ_COMMAND && !dmi.is_read_allowed()) ||
        (command == tlm::TLM_WRITE_COMMAND && !dmi.is_write_allowed()) ||
        dmi.get_granted_access() == tlm::tlm_dmi::DMI_ACCESS_NONE)
        report("11.2", at + std::string("granted access does not cover the requested ") +
                           command_name(command));
}

bool protocol_checker::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
    ++m_calls;
    const uint64_t address = trans.get_address();
    const tlm::tlm_command command = trans.get_command();
    if (trans.get_gp_option() == tlm::TLM_FULL_PAYLOAD_ACCEPTED)
        report("14.8", "get_direct_mem_ptr at " + hex(address) +
                           ": option is TLM_FULL_PAYLOAD_ACCEPTED on entry; only a target sets it");
    const bool granted = initiator_socket->get_direct_mem_ptr(trans, dmi);
    if (trans.get_address() != address)
        report("14.10",
               "get_direct_mem_ptr at " + hex(address) + ": address not restored on the way back");
    check_dmi_range(dmi, address, granted, command);
    return granted;
}

void protocol_checker::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
    ++m_calls;
    if (start > end)
        report("11.2",
               "invalidate_direct_mem_ptr: empty range [" + hex(start) + ", " + hex(end) + "]");
    target_socket->invalidate_direct_mem_ptr(start, end);
}

// --- non-blocking transport: BEGIN_REQ -> END_REQ -> BEGIN_RESP -> END_RESP per transaction,
// with the shortcuts of the return path (TLM_UPDATED, TLM_COMPLETED), and at most one request
// and one response in progress on a hop at a time ---

tlm::tlm_sync_enum protocol_checker::nb_transport_fw(tlm::tlm_generic_payload& trans,
                                                     tlm::tlm_phase& phase,
                                                     sc_core::sc_time& delay) {
    ++m_calls;
    const tlm::tlm_phase sent = phase;
    const std::string at = "nb_transport_fw(" + std::string(phase.get_name()) + ") at " +
                           hex(trans.get_address()) + ": ";
    if (phase == tlm::BEGIN_REQ) {
        if (m_nb.count(&trans))
            report("15.2-sequence", at + "BEGIN_REQ for a transaction already in progress");
        if (m_open_request && m_open_request != &trans)
            report("15.2-exclusion",
                   at + "BEGIN_REQ before END_REQ of the previous request on this hop");
        check_request(trans, "nb_transport_fw(BEGIN_REQ)");
        m_nb[&trans] = {take(trans), nb_state::request};
        m_open_request = &trans;
    } else if (phase == tlm::END_RESP) {
        auto it = m_nb.find(&trans);
        if (it == m_nb.end() || it->second.state != nb_state::response)
            report("15.2-sequence", at + "END_RESP without a BEGIN_RESP");
        if (m_open_response == &trans) m_open_response = nullptr;
    } else if (phase == tlm::END_REQ || phase == tlm::BEGIN_RESP) {
        report("15.2-sequence", at + "a backward-path phase sent on the forward path");
    }
    const tlm::tlm_sync_enum status = initiator_socket->nb_transport_fw(trans, phase, delay);
    nb_returned(trans, sent, phase, status, true);
    return status;
}

tlm::tlm_sync_enum protocol_checker::nb_transport_bw(tlm::tlm_generic_payload& trans,
                                                     tlm::tlm_phase& phase,
                                                     sc_core::sc_time& delay) {
    ++m_calls;
    const tlm::tlm_phase sent = phase;
    const std::string at = "nb_transport_bw(" + std::string(phase.get_name()) + ") at " +
                           hex(trans.get_address()) + ": ";
    auto it = m_nb.find(&trans);
    if (it == m_nb.end()) {
        report("15.2-sequence", at + "no request of this transaction is in progress");
    } else if (phase == tlm::END_REQ) {
        if (it->second.state != nb_state::request)
            report("15.2-sequence", at + "END_REQ twice or after BEGIN_RESP");
        it->second.state = nb_state::request_done;
        if (m_open_request == &trans) m_open_request = nullptr;
    } else if (phase == tlm::BEGIN_RESP) {
        if (it->second.state == nb_state::response)
            report("15.2-sequence", at + "BEGIN_RESP twice");
        if (m_open_response && m_open_response != &trans)
            report("15.2-exclusion",
                   at + "BEGIN_RESP before END_RESP of the previous response on this hop");
        check_response_set(trans, "nb_transport_bw(BEGIN_RESP)");
        it->second.state = nb_state::response;  // an implicit END_REQ if none came
        if (m_open_request == &trans) m_open_request = nullptr;
        m_open_response = &trans;
    } else if (phase == tlm::BEGIN_REQ || phase == tlm::END_RESP) {
        report("15.2-sequence", at + "a forward-path phase sent on the backward path");
    }
    const tlm::tlm_sync_enum status = target_socket->nb_transport_bw(trans, phase, delay);
    nb_returned(trans, sent, phase, status, false);
    return status;
}

void protocol_checker::nb_returned(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& sent,
                                   const tlm::tlm_phase& back, tlm::tlm_sync_enum status, bool fw) {
    auto it = m_nb.find(&trans);
    if (it == m_nb.end()) return;
    const std::string at = std::string(fw ? "nb_transport_fw(" : "nb_transport_bw(") +
                           sent.get_name() + ") at " + hex(it->second.at_start.address) + ": ";
    if (status == tlm::TLM_COMPLETED) {
        if (!fw && sent == tlm::END_REQ)
            report("15.2-sequence", at + "TLM_COMPLETED is no answer to END_REQ");
        check_response_set(trans, fw ? "nb_transport_fw" : "nb_transport_bw");
        nb_finish(trans);
        return;
    }
    if (status == tlm::TLM_ACCEPTED) {
        if (back != sent)
            report("15.2-sequence",
                   at + "the phase changed to " + back.get_name() + " with TLM_ACCEPTED");
        if (fw && sent == tlm::END_RESP && it->second.state == nb_state::response) nb_finish(trans);
        return;
    }
    // TLM_UPDATED: the callee moved the transaction on by the phase it returned.
    nb_transaction& x = it->second;
    if (fw && sent == tlm::BEGIN_REQ && back == tlm::END_REQ) {
        x.state = nb_state::request_done;
        if (m_open_request == &trans) m_open_request = nullptr;
    } else if (fw && sent == tlm::BEGIN_REQ && back == tlm::BEGIN_RESP) {
        if (m_open_response && m_open_response != &trans)
            report("15.2-exclusion",
                   at + "BEGIN_RESP before END_RESP of the previous response on this hop");
        check_response_set(trans, "nb_transport_fw");
        x.state = nb_state::response;
        if (m_open_request == &trans) m_open_request = nullptr;
        m_open_response = &trans;
    } else if (!fw && sent == tlm::BEGIN_RESP && back == tlm::END_RESP) {
        if (m_open_response == &trans) m_open_response = nullptr;
        nb_finish(trans);
    } else {
        report("15.2-sequence",
               at + "TLM_UPDATED with phase " + back.get_name() + " is not a legal next phase");
        if (fw && sent == tlm::END_RESP && x.state == nb_state::response) nb_finish(trans);
    }
}

void protocol_checker::nb_finish(tlm::tlm_generic_payload& trans) {
    auto it = m_nb.find(&trans);
    if (it == m_nb.end()) return;
    check_unchanged(it->second.at_start, trans, "nb_transport", true);
    m_nb.erase(it);
    if (m_open_request == &trans) m_open_request = nullptr;
    if (m_open_response == &trans) m_open_response = nullptr;
}

}  // namespace npusim::models
