"""The asset graph. BackfillPolicy (beta) and partitioned asset checks (preview) in Dagster 1.13: relied on knowingly."""

import warnings

from dagster import BetaWarning, PreviewWarning

warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)
