// SA payloads from Suites and back (RFC 7296 2.7, 3.3): what the initiator
// offers, how the responder selects, and how the initiator checks the
// selection.
//
// An offer has one proposal per Suite, numbered from 1 in preference order.
// The responder accepts a proposal for one of its Suites when the proposal
// contains every transform of that Suite (ENCR with the same Key Length,
// PRF for IKE, INTEG unless AEAD, DH unless NONE or ignored, ESN for ESP)
// and only transform types it understands; an AEAD Suite accepts no INTEG
// or INTEG NONE, a Suite without DH accepts no DH or DH NONE.
#ifndef MIPSEC_IKEV2_SA_PROPOSALS_H_
#define MIPSEC_IKEV2_SA_PROPOSALS_H_

#include <optional>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "ikev2/codec/sa_payload.h"
#include "ikev2/crypto/suite.h"

namespace mipsec::ikev2 {

// The Suite without its DH group (ESP in IKE_AUTH, RFC 7296 1.2). IKE
// suites are returned unchanged.
Suite WithoutDh(const Suite& s);

// The transforms of `s` as proposal `number` with `spi`.
Proposal ProposalFromSuite(const Suite& s, std::uint8_t number, ProtocolId protocol, Bytes spi);
// One proposal per suite, numbered 1..n, all with `spi`.
SaPayload MakeOffer(std::span<const Suite> suites, ProtocolId protocol, const Bytes& spi);

// Whether proposal `p` offers `s`.
bool ProposalOffers(const Proposal& p, const Suite& s);

struct Selection {
  Suite suite;
  std::uint8_t number;  // the chosen proposal's number
  Bytes spi;            // the chosen proposal's SPI (the peer's)
};

// Responder: the first offered proposal of `protocol` that offers one of
// `ours` (ours in order for each proposal). With `ke_group`, proposals whose
// selectable suite uses that DH group win over earlier ones (RFC 7296 2.7:
// avoid an INVALID_KE_PAYLOAD round trip). `ignore_dh` compares ESP suites
// without DH (IKE_AUTH). kNotFound: NO_PROPOSAL_CHOSEN.
Result<Selection> SelectProposal(const SaPayload& offer, std::span<const Suite> ours,
                                 ProtocolId protocol, std::optional<DhId> ke_group = {});

// Initiator: the responder's SA payload must hold exactly one proposal of
// `protocol`, numbered as one of ours, with exactly one transform per type
// that form the offered Suite (`offered[number - 1]`). kMalformed otherwise.
Result<Selection> CheckSelection(const SaPayload& response, std::span<const Suite> offered,
                                 ProtocolId protocol);

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_SA_PROPOSALS_H_
