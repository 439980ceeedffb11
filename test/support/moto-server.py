"""
moto_server with one fidelity fix (docs/testing.md, "Real parts and fakes").

In a bucket policy, a statement whose condition does not hold does not apply, and a condition on a
key the request does not carry does not hold (IAM User Guide, "IAM JSON policy elements: Condition
operators": without the key only ...IfExists and Null operators match). moto 5.2.5 takes a
condition on a missing key as holding, answers DENIED for any statement whose condition does not
hold (even an Allow), and never supplies aws:SecureTransport: the operator's TLS-only Deny would
refuse every object request. With the fix, moto stores, returns and evaluates that policy, and it
does not apply (tests reach moto over plain HTTP on loopback; AWS enforces it). moto evaluates
these statements only for bucket policies here (its IAM authorization is off).

Usage: <moto venv>/bin/python3 moto-server.py [moto_server arguments]
"""

import sys

from moto.iam import access_control, policy_conditions

_verify = policy_conditions.TrustCondition.verify_condition


def _verify_condition(self, actual_values):
    operator = self._condition
    if len(actual_values) < len(self.context_keys) and not operator.endswith("IfExists") and operator != "Null":
        return False
    return _verify(self, actual_values)


_permitted = access_control.IAMPolicyStatement.is_action_permitted


def _is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
    if self._statement.get("Condition") and not self._check_conditions(incoming_condition_values):
        return access_control.PermissionResult.NEUTRAL
    return _permitted(self, action, resource, principal, incoming_condition_values)


policy_conditions.TrustCondition.verify_condition = _verify_condition
access_control.IAMPolicyStatement.is_action_permitted = _is_action_permitted

from moto.server import main  # noqa: E402  (after the patch, as moto_server would import it)

if __name__ == "__main__":
    sys.exit(main())
