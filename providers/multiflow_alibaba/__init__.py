"""Alibaba Cloud VPC flow logs for multiflow (placeholder until the provider lands)."""
