#include "platform/host_interface.h"

#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

#include "platform/chip.h"

namespace npusim::platform {

bool host_signal::wait_for(models::ps_t timeout) {
    const models::ps_t t0 = models::now_ps();
    sc_core::wait(models::ps_to_time(timeout), m_event);
    return models::now_ps() - t0 < timeout;
}

void host_interface::delay(models::ps_t ps) {
    if (ps > 0) sc_core::wait(models::ps_to_time(ps));
}

unsigned host_interface::spawn(const std::string& name, std::function<void()> fn) {
    std::string base = name;  // SystemC names allow letters, digits and '_' only
    for (char& ch : base)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    const sc_core::sc_process_handle h =
        sc_core::sc_spawn(std::move(fn), sc_core::sc_gen_unique_name(base.c_str()));
    m_threads.push_back({name, h});
    const auto id = static_cast<unsigned>(m_threads.size() - 1);
    m_ids[h.get_process_object()] = id;
    return id;
}

void host_interface::join(unsigned id) {
    sc_core::sc_process_handle h = m_threads.at(id).handle;
    if (!h.terminated()) sc_core::wait(h.terminated_event());
}

int host_interface::current_thread() const {
    const auto it = m_ids.find(sc_core::sc_get_current_process_handle().get_process_object());
    return it == m_ids.end() ? -1 : static_cast<int>(it->second);
}

bool host_interface::unwinding() const {
    return sc_core::sc_get_current_process_handle().is_unwinding();
}

bool host_interface::threads_alive() const {
    return std::any_of(m_threads.begin(), m_threads.end(),
                       [](const thread& t) { return !t.handle.terminated(); });
}

void host_interface::kill_threads() {
    for (auto& t : m_threads)
        if (!t.handle.terminated()) t.handle.kill();
}

unsigned host_interface::units(models::kernel_kind kind) const {
    return m_chip.scheduler().units(kind);
}

uint64_t host_interface::submit_kernel(models::task_scheduler::request r) {
    return m_chip.scheduler().submit(std::move(r));
}

void host_interface::set_kernel_priority(uint64_t launch, int priority) {
    m_chip.scheduler().set_priority(launch, priority);
}

void host_interface::copy_to_device(uint64_t dst, const void* src, uint64_t n) {
    m_chip.host().to_device(dst, src, n);
}

void host_interface::copy_to_host(void* dst, uint64_t src, uint64_t n) {
    m_chip.host().to_host(dst, src, n);
}

void host_interface::copy_on_device(uint64_t dst, uint64_t src, uint64_t n) {
    m_chip.sdma().copy(dst, src, n);
}

void host_interface::fill_device(uint64_t dst, uint8_t value, uint64_t n) {
    m_chip.sdma().fill(dst, value, n);
}

uint64_t host_interface::device_capacity() const {
    return m_chip.config().gm.capacity;
}

void host_interface::poison(uint64_t addr, uint64_t len, bool freed) {
    m_chip.gm().poison(addr, len, freed);
}

std::vector<std::string> host_interface::freed_reads(models::ps_t from, models::ps_t to) const {
    // Bursts touch a freed block piece by piece: report contiguous ranges.
    std::map<uint64_t, uint64_t> ranges;  // start -> end
    for (const auto& h : m_chip.gm().poison_hits(from, to)) {
        uint64_t& end = ranges[h.addr];
        end = std::max(end, h.addr + h.len);
    }
    std::vector<std::pair<uint64_t, uint64_t>> merged;
    for (const auto& [s, e] : ranges)
        if (!merged.empty() && s <= merged.back().second)
            merged.back().second = std::max(merged.back().second, e);
        else
            merged.emplace_back(s, e);
    std::vector<std::string> out;
    for (const auto& [s, e] : merged) {
        char text[96];
        std::snprintf(text, sizeof text, "%llu bytes at GM[0x%llx]",
                      static_cast<unsigned long long>(e - s), static_cast<unsigned long long>(s));
        out.push_back(text);
    }
    return out;
}

unsigned host_interface::add_reporter(std::function<std::string()> fn) {
    m_reporters.emplace_back(m_next_reporter, std::move(fn));
    return m_next_reporter++;
}

void host_interface::remove_reporter(unsigned key) {
    m_reporters.erase(std::remove_if(m_reporters.begin(), m_reporters.end(),
                                     [key](const auto& r) { return r.first == key; }),
                      m_reporters.end());
}

std::string host_interface::blocked_report() const {
    std::string s;
    for (const auto& r : m_reporters) s += r.second();
    return s + m_chip.blocked_report();
}

}  // namespace npusim::platform
