#pragma once
// A TLM-2.0 base-protocol checker for one hop: forwards every call unchanged and records the
// rules of IEEE 1666-2011 (clauses 11, 14 and the base protocol's phases) that a call breaks.
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace npusim::models {

/// @brief One broken rule: the clause it comes from, what happened, and where.
struct protocol_violation {
    std::string rule;  ///< e.g. "14.16" (DMI allowed attribute), "11.3.4", "15.2-sequence"
    std::string text;
    std::string hop;
};

/// @brief Pass-through module checking the TLM-2.0 base protocol on one hop.
///
/// Bind the initiator side to `target_socket` and the target side to `initiator_socket`. Every
/// b_transport, nb_transport_fw/bw, transport_dbg, get_direct_mem_ptr and
/// invalidate_direct_mem_ptr is forwarded as is; the checks see the payload on the way in and
/// on the way back. A violation is counted and recorded, never thrown, so a test can assert
/// there are none or that a particular one was found. Rule ids name the clause of IEEE
/// 1666-2011 the rule comes from (docs/tlm-contract.md lists them).
class protocol_checker : public sc_core::sc_module {
  public:
    tlm_utils::simple_target_socket<protocol_checker> target_socket;
    tlm_utils::simple_initiator_socket<protocol_checker> initiator_socket;

    /// @param hop how reports name this hop, e.g. "core0.mte2_dma -> noc"; empty: the
    /// module's name.
    explicit protocol_checker(const sc_core::sc_module_name& nm, std::string hop = "");

    const std::string& hop() const { return m_hop; }
    /// @brief Every violation seen (records beyond the first 256 are counted only).
    uint64_t violation_count() const { return m_count; }
    /// @brief Violations of one rule id.
    uint64_t count(const std::string& rule) const;
    /// @brief The first violations, in the order seen.
    const std::vector<protocol_violation>& violations() const { return m_records; }
    /// @brief Violations per rule id.
    const std::map<std::string, uint64_t>& by_rule() const { return m_by_rule; }
    /// @brief Calls checked (all interfaces), so a test can see traffic went through this hop.
    uint64_t calls() const { return m_calls; }
    /// @brief Forgets every violation and the call count.
    void clear();

    static constexpr size_t max_records = 256;

  private:
    /// The attributes neither an interconnect nor a target may change (14.7), plus the address,
    /// which must be back to the initiator's value when the call returns through this hop.
    struct snapshot {
        tlm::tlm_command command;
        uint64_t address;
        unsigned char* data;
        unsigned int length;
        unsigned char* byte_enable;
        unsigned int byte_enable_length;
        unsigned int streaming_width;
    };
    enum class nb_state { request, request_done, response };
    struct nb_transaction {
        snapshot at_start;
        nb_state state;
    };

    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                       sc_core::sc_time& delay);
    tlm::tlm_sync_enum nb_transport_bw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                       sc_core::sc_time& delay);
    unsigned int transport_dbg(tlm::tlm_generic_payload& trans);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
    void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);

    void report(const char* rule, const std::string& text);
    static snapshot take(const tlm::tlm_generic_payload& trans);
    /// Rules for a payload entering a target by transport (b_transport or BEGIN_REQ).
    void check_request(const tlm::tlm_generic_payload& trans, const char* call);
    /// Rules for the attributes no one downstream may change; `with_address`: also the address.
    void check_unchanged(const snapshot& before, const tlm::tlm_generic_payload& trans,
                         const char* call, bool with_address);
    void check_response_set(const tlm::tlm_generic_payload& trans, const char* call);
    void check_dmi_range(const tlm::tlm_dmi& dmi, uint64_t address, bool granted,
                         tlm::tlm_command command);
    /// Phase bookkeeping after a call: `fw` tells the direction of the call that returned.
    void nb_returned(tlm::tlm_generic_payload& trans, const tlm::tlm_phase& sent,
                     const tlm::tlm_phase& back, tlm::tlm_sync_enum status, bool fw);
    void nb_finish(tlm::tlm_generic_payload& trans);

    std::string m_hop;
    uint64_t m_count = 0, m_calls = 0;
    std::map<std::string, uint64_t> m_by_rule;
    std::vector<protocol_violation> m_records;
    std::unordered_map<const tlm::tlm_generic_payload*, nb_transaction> m_nb;
    const tlm::tlm_generic_payload* m_open_request = nullptr;   ///< BEGIN_REQ without END_REQ
    const tlm::tlm_generic_payload* m_open_response = nullptr;  ///< BEGIN_RESP without END_RESP
};

}  // namespace npusim::models
