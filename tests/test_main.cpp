// Boost.Test runs inside sc_main (DESIGN §6): SystemC owns main(), and each CTest entry runs one
// case in a fresh process because SystemC cannot re-elaborate.
#define BOOST_TEST_NO_MAIN
#define BOOST_TEST_ALTERNATIVE_INIT_API
#include <boost/test/unit_test.hpp>
#include <systemc>

#include <stdexcept>

namespace {

// Any SystemC warning or error fails the running test.
void fail_on_report(const sc_core::sc_report& rep, const sc_core::sc_actions& actions) {
    if (rep.get_severity() >= sc_core::SC_WARNING) {
        BOOST_ERROR("SystemC " << (rep.get_severity() == sc_core::SC_WARNING ? "warning" : "error")
                               << ": " << rep.get_msg_type() << ": " << rep.get_msg());
        if (rep.get_severity() >= sc_core::SC_ERROR) throw std::runtime_error(rep.what());
        return;
    }
    sc_core::sc_report_handler::default_handler(rep, actions);
}

bool init_unit_test() {
    sc_core::sc_report_handler::set_handler(fail_on_report);
    return true;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}

int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
