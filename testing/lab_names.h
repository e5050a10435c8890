// The namespace lab (src/lab, namespace mipsec::lab: network namespaces,
// strongSwan peers, the Figure 1 network) under the names tests have always
// used: Topology, Child, StrongswanPeer, ... in mipsec::testing. Tests only;
// product code says mipsec::lab.
#ifndef MIPSEC_TESTING_LAB_NAMES_H_
#define MIPSEC_TESTING_LAB_NAMES_H_

namespace mipsec::lab {}

namespace mipsec::testing {
using namespace ::mipsec::lab;  // NOLINT(google-build-using-namespace)
}  // namespace mipsec::testing

#endif  // MIPSEC_TESTING_LAB_NAMES_H_
