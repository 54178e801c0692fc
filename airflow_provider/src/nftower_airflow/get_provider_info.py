"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

The dictionary is written by hand and kept small; ``tests/airflow/test_provider_info.py`` imports
every dotted path it names. Importing this module must stay cheap: it imports nothing.
"""

from __future__ import annotations

from typing import Any

from nftower_airflow._version import __version__

INTEGRATION = "Nextflow Tower / Seqera Platform"


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow shows in ``airflow providers list``.

    Example:
        >>> info = get_provider_info()
        >>> info["package-name"], info["connection-types"][0]["connection-type"]
        ('airflow-provider-nftower', 'tower')
    """
    return {
        "package-name": "airflow-provider-nftower",
        "name": "Nextflow Tower / Seqera Platform",
        "description": (
            "Launch, watch and cancel Nextflow pipeline runs on Nextflow Tower / Seqera Platform."
        ),
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://docs.seqera.io/platform-cloud/api/overview",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": ["nftower_airflow.hooks"]}],
        "operators": [
            {
                "integration-name": INTEGRATION,
                "python-modules": ["nftower_airflow.operators", "nftower_airflow.data_operators"],
            }
        ],
        "sensors": [
            {"integration-name": INTEGRATION, "python-modules": ["nftower_airflow.sensors"]}
        ],
        "triggers": [
            {"integration-name": INTEGRATION, "python-modules": ["nftower_airflow.triggers"]}
        ],
        "extra-links": ["nftower_airflow.links.TowerRunLink"],
        "connection-types": [
            {
                "connection-type": "tower",
                "hook-class-name": "nftower_airflow.hooks.TowerHook",
                "hook-name": "Nextflow Tower / Seqera Platform",
                "conn-fields": {
                    "workspace": {
                        "label": "Workspace",
                        "description": (
                            "Numeric workspace id or 'organization/workspace'. "
                            "Empty = the personal workspace."
                        ),
                        # optional (null allowed) with an empty default: an empty field is
                        # saved as "", not as null
                        "schema": {"type": ["string", "null"], "default": ""},
                    },
                    "rate_limit_backend": {
                        "label": "Rate limit backend",
                        "description": (
                            "Where the per-token request budget is counted: memory:// (one "
                            "process), file:///path or sqlite:///path (one host) or "
                            "redis://host:port/db (many hosts). Empty = the host-wide default, "
                            "file:// (a locked file in the user's cache directory)."
                        ),
                        # optional (null allowed) with an empty default: an empty field is
                        # saved as "", not as null
                        "schema": {"type": ["string", "null"], "default": ""},
                    },
                },
                "ui-field-behaviour": {
                    # Port stays: Airflow 3.3's "Test" button sends port 0 for a connection
                    # without one and its API refuses that as another destination; a saved
                    # port (443) passes. See docs/airflow.md.
                    "hidden-fields": ["login"],
                    "relabeling": {
                        "host": "API URL",
                        "schema": "API path (optional)",
                        "port": "Port (443 lets Airflow's Test button work)",
                        "password": "Access token",
                    },
                    "placeholders": {
                        "host": "https://api.cloud.seqera.io",
                        "schema": "only when host is a bare host name, e.g. api",
                        "port": "443",
                        "password": "Tower / Seqera Platform access token",
                        "workspace": "my-org/my-workspace or 1234567890",
                        "rate_limit_backend": "sqlite:///tmp/nftower-ratelimit.db",
                    },
                },
            }
        ],
    }
