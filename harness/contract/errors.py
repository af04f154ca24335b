"""The one exception the contract layer raises (its own module so validate and catalogue share it)."""


class ContractError(Exception):
    """A contract folder or file that cannot be used at all (not merely quirky)."""
