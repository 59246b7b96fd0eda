"""The example provider's tests opt into multiflow's conformance kit, as any provider plugin does."""

pytest_plugins = ["multiflow.testing"]
