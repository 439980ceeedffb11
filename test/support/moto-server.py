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

# S3 Vectors (moto 5.2.5) as AWS's API model describes it: CreateIndex keeps metadataConfiguration
# and encryptionConfiguration (GetIndex returns them; moto drops both), a second CreateIndex of a
# taken name is a ConflictException (moto replaces the index and its vectors), the creates
# return the new ARN and both carry a creationTime (required members moto leaves out).
from moto.core.exceptions import ServiceException  # noqa: E402
from moto.core.responses import ActionResult  # noqa: E402
from moto.s3vectors import responses as s3vectors_responses  # noqa: E402


class _IndexAlreadyExists(ServiceException):
    code = "ConflictException"

    def __init__(self):
        super().__init__("A vector index with the specified name already exists")


_create_vector_bucket = s3vectors_responses.S3VectorsResponse.create_vector_bucket
_create_index = s3vectors_responses.S3VectorsResponse.create_index


def _s3vectors_create_vector_bucket(self):
    _create_vector_bucket(self)
    bucket = self.s3vectors_backend.get_vector_bucket(vector_bucket_name=self._get_param("vectorBucketName"))
    return ActionResult({"vectorBucketArn": bucket.vector_bucket_arn})


def _s3vectors_create_index(self):
    bucket = self.s3vectors_backend.get_vector_bucket(
        vector_bucket_name=self._get_param("vectorBucketName"), vector_bucket_arn=self._get_param("vectorBucketArn")
    )
    name = self._get_param("indexName")
    if any(i.index_name == name for i in bucket.indexes.values()):
        raise _IndexAlreadyExists()
    _create_index(self)
    index = next(i for i in bucket.indexes.values() if i.index_name == name)
    index.metadata_configuration = self._get_param("metadataConfiguration")
    index.encryption_configuration = self._get_param("encryptionConfiguration")
    return ActionResult({"indexArn": index.index_arn})


# Every vector bucket and index has a creationTime (required in GetVectorBucket, GetIndex and
# their List answers); moto records none.
import datetime  # noqa: E402
from moto.s3vectors import models as s3vectors_models  # noqa: E402


def _with_creation_time(cls):
    init = cls.__init__

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.creation_time = datetime.datetime.now(datetime.timezone.utc)

    cls.__init__ = __init__


_with_creation_time(s3vectors_models.VectorBucket)
_with_creation_time(s3vectors_models.Index)

s3vectors_responses.S3VectorsResponse.create_vector_bucket = _s3vectors_create_vector_bucket
s3vectors_responses.S3VectorsResponse.create_index = _s3vectors_create_index

from moto.server import main  # noqa: E402  (after the patch, as moto_server would import it)

if __name__ == "__main__":
    sys.exit(main())
