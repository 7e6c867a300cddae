"""``digital-booking-state``: the bootstrap stack holding every stage's Terraform state store."""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from modules.kit import AwsAccount
from modules.state_store import StateStoreSettings, TerraformStateStore

STATE_STACK_NAME = "digital-booking-state"
#: Where the bootstrap keeps its local state, relative to the project root: outside ``cdktf.out``
#: (which ``make clean`` and every synth may replace) and git-ignored.
BOOTSTRAP_STATE_FILE = f"bootstrap-state/terraform.{STATE_STACK_NAME}.tfstate"
#: The same file as the backend names it: terraform and ``cdktf deploy`` run in
#: ``cdktf.out/stacks/digital-booking-state``, three levels below the project root.
BOOTSTRAP_BACKEND_PATH = f"../../../{BOOTSTRAP_STATE_FILE}"


class StateBootstrapStack(TerraformStack):
    """Deployed once, on local state (:data:`BOOTSTRAP_STATE_FILE`); see README."""

    def __init__(self, scope: Construct, settings: StateStoreSettings) -> None:
        super().__init__(scope, STATE_STACK_NAME)
        # Local state on purpose: the bucket this stack creates cannot hold its own state until
        # it exists. The README shows how to migrate it into the bucket afterwards.
        LocalBackend(self, path=BOOTSTRAP_BACKEND_PATH)
        AwsProvider(
            self,
            "aws",
            region=settings.region,
            default_tags=[
                AwsProviderDefaultTags(
                    tags={
                        "project": "digital-booking",
                        "stage": "shared",
                        "owner": "platform-team",
                        "cost-centre": "platform",
                        "managed-by": "cdktf",
                    }
                )
            ],
        )
        self.store = TerraformStateStore(self, "state-store", settings, AwsAccount(self))
        TerraformOutput(self, "state_bucket", value=self.store.bucket_name)
        TerraformOutput(self, "lock_table", value=self.store.lock_table_name)
        TerraformOutput(self, "state_kms_key_arn", value=self.store.kms_key_arn)
        TerraformOutput(self, "state_kms_key_alias", value=settings.kms_key_alias)
