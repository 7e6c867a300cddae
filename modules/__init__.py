"""One construct per platform tier. Importing this package first installs the light loader
for the AWS provider binding (see ``_provider_import.py``), so that the ordinary
``from cdktf_cdktf_provider_aws.<resource> import <Class>`` imports in the tiers stay fast."""

from modules import _provider_import

_provider_import.install()
