"""Apache Airflow provider for Nextflow Tower / Seqera Platform."""
