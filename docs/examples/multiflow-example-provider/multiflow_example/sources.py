"""Which ExampleCloud accounts a fleet covers: the model of one item of ``accounts: {example: [...]}``.

```yaml
accounts:
  example:
    - organization: {units: [ou-prod], exclude: ["100000000003"]}   # members of the organization, filtered
    - account: "100000000007"                                     # or one account, by id
```

A model only (pydantic, no client library): :attr:`ExampleProvider.accounts
<multiflow_example.provider.ExampleProvider.accounts>` names it, multiflow validates the items with it, and
:mod:`multiflow_example.organization` lists and enters what it says.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from multiflow.accounts import AccountSource

__all__ = ["AccountId", "ExampleAccountSource", "OrganizationFilter"]

AccountId = Annotated[str, Field(pattern=r"^[0-9]{12}$", description="An ExampleCloud account id: 12 digits")]


class OrganizationFilter(BaseModel):
    """The members of the caller's organization to cover; filters combine with AND, ``exclude`` wins over all.

    Members the filters leave out are still looked at for the fleet's own flow logs (an account dropped from the
    file is cleaned up), never given new ones.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ids: list[AccountId] | None = Field(default=None, min_length=1, description="Only these account ids")
    units: list[str] | None = Field(
        default=None, min_length=1, description="Only members of these organizational units"
    )
    labels: dict[str, str] | None = Field(
        default=None, min_length=1, description="Only members with every one of these account labels"
    )
    exclude: list[AccountId] | None = Field(default=None, min_length=1, description="Never these account ids")

    def holds(self, account_id: str, unit: str, labels: dict[str, str]) -> bool:
        """Whether a member with this id, unit and labels is covered."""
        return (
            (self.ids is None or account_id in self.ids)
            and (self.units is None or unit in self.units)
            and all(labels.get(k) == v for k, v in (self.labels or {}).items())
            and account_id not in (self.exclude or ())
        )


class ExampleAccountSource(AccountSource):
    """One item of ``accounts: {example: [...]}``: ``organization: {...}`` or ``account: <id>``, exactly one."""

    organization: OrganizationFilter | None = None
    account: AccountId | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ExampleAccountSource:
        if (self.organization is None) == (self.account is None):
            raise ValueError("give exactly one of organization or account")
        return self

    def label(self) -> str:
        """``organization``, or ``account 100000000007``."""
        return "organization" if self.organization is not None else f"account {self.account}"
