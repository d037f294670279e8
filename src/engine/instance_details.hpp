// InstanceState's side block: what most live instances do not have yet. Internal: the public
// header only declares it, so that its containers (Boost's small_vector among them) stay out of
// the public headers. InstanceState's accessors (approvals(), assignments(), ...) read it.
#ifndef SALESFLOW_ENGINE_INSTANCE_DETAILS_HPP_
#define SALESFLOW_ENGINE_INSTANCE_DETAILS_HPP_

#include <string>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "salesflow/process.hpp"

namespace salesflow {

struct InstanceDetails {
  // In the order given. The first two are inline: a gate asks for one or two, and a command
  // through the gate then reads them without a cache miss of their own (docs/PERFORMANCE.md).
  boost::container::small_vector<GivenApproval, 2> approvals;
  std::vector<RoleAssignment> assignments;  // people assigned to roles on this instance
  std::string lost_reason;
  RoleSet team_required;  // roles to assign before the current stage's gate opens
  friend bool operator==(const InstanceDetails&, const InstanceDetails&) = default;
};

}  // namespace salesflow

#endif  // SALESFLOW_ENGINE_INSTANCE_DETAILS_HPP_
