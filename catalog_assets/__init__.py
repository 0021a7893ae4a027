"""The asset graph: one partitioned asset per product of a clip, its checks, and the job that runs them.

Dagster's beta and preview features used knowingly (BackfillPolicy, partitioned asset checks) have their one
warning silenced where they are declared (partitions.clip_asset, checks.clip_check); every other Beta or
Preview warning still reaches the user.
"""
