"""Jobs of the platform (public schema)."""

from core.jobs import platform_task

from . import warming


@platform_task(queueing_lock="warm_cache")
def warm_cache(schemas):
    """manage.py warm_cache as a job: deferred after a deploy (`manage.py warm_cache --defer`)."""
    result = warming.warm(schemas or None)
    warming.log.info("warm_cache: %s companies, %s pages, %s dashboards in %.1f s; %s failures",
                     result.companies, result.pages, result.data, result.seconds, len(result.failures))
    if result.failures:
        raise RuntimeError(f"warm_cache: not warmed: {'; '.join(result.failures[:20])}")
