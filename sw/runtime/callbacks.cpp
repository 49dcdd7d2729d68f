// Host callbacks: queues of reports for report threads and the runtime's own callback thread.
#include <algorithm>
#include <iterator>

#include "sw/runtime/runtime_state.h"

namespace npusim::runtime {

report_queue& runtime_state::runtime_queue(const std::shared_ptr<runtime_state>& self) {
    if (runtime_callbacks) return *runtime_callbacks;
    auto q = std::make_unique<report_queue>();
    q->by_priority = false;
    report_queue* qp = q.get();
    qp->thread = spawn_own("runtime callbacks", [self, qp] {
        for (;;) {
            const bool slept = qp->items.empty();
            while (qp->items.empty() && !self->shutdown) qp->arrived.wait();
            if (qp->items.empty()) return;
            if (slept) self->api.delay(self->costs.thread_wakeup_ps);
            const std::shared_ptr<report> r = qp->items.front();
            qp->items.pop_front();
            self->run_report(*r, self->costs.callback_ps);
        }
    });
    runtime_callbacks = qp;
    report_queues[qp->thread] = std::move(q);
    return *qp;
}

report_queue& runtime_state::report_queue_of(unsigned thread) {
    auto& q = report_queues[thread];
    if (!q) {
        q = std::make_unique<report_queue>();
        q->thread = thread;
    }
    return *q;
}

void runtime_state::post(report_queue& q, std::shared_ptr<report> r) {
    r->posted = api.now();
    auto at = q.items.end();
    if (q.by_priority) {  // after every waiting callback of the same or a higher priority
        if (!q.items.empty() && q.items.front()->priority != r->priority) q.mixed = true;
        while (at != q.items.begin() && (*std::prev(at))->priority > r->priority) --at;
    }
    q.items.insert(at, std::move(r));
    q.arrived.notify();
}

std::deque<std::shared_ptr<report>>::iterator report_queue::oldest() {
    return std::min_element(items.begin(), items.end(),
                            [](const auto& a, const auto& b) { return a->posted < b->posted; });
}

std::shared_ptr<report> report_queue::take(models::ps_t now) {
    auto pick = items.begin();
    // With one priority waiting (the usual case) the front is also the oldest; only a mix
    // needs the scan.
    if (mixed) {
        const auto first = oldest();
        if (now - (*first)->posted > opt.starvation) pick = first;
    }
    std::shared_ptr<report> r = *pick;
    items.erase(pick);
    if (items.empty()) mixed = false;
    return r;
}

void runtime_state::run_report(report& r, models::ps_t dispatch) {
    const int me = api.current_thread();
    api.delay(dispatch);  // the thread wakes (or takes the next of a batch) and calls in
    r.start = api.now();
    in_callback[me] = &r;
    try {
        r.w.fn(r.before);
    } catch (const std::exception& e) {
        if (api.unwinding()) throw;  // the thread is being killed: let it unwind
        r.error = {status::callback_exception,
                   r.origin() + ": callback '" + r.w.name + "' threw: " + e.what()};
    } catch (...) {
        if (api.unwinding()) throw;
        r.error = {status::callback_exception,
                   r.origin() + ": callback '" + r.w.name + "' threw a non-standard exception"};
    }
    in_callback.erase(me);
    r.end = api.now();
    if (r.on_done) r.on_done(r);
}

}  // namespace npusim::runtime
