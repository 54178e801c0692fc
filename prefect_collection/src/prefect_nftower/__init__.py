"""Prefect collection for Nextflow Tower / Seqera Platform."""
