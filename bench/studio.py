"""How fast Studio's pages answer when the lists are long.

Studio renders pages on the server from the same services the REST API uses, so the
fair baseline is the API itself: the JSON list of the same resources, measured in the
same run against the same server. Measured: the Data list page (page 1 and the last
page of 50 rows each), the Home page (counts and recent activity) and a dataset's own
page, with N datasets registered through the API. Medians of R requests each, over
real HTTP on 127.0.0.1.

Target (issue 9: "pages load fast on large lists"): a list page costs no more than a
few times the JSON list of the same 50 rows, whatever N is.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx

N = int(os.environ.get("BENCH_DATASETS", "1000"))
R = int(os.environ.get("BENCH_RUNS", "30"))


def timed(client: httpx.Client, url: str) -> float:
    """Median wall of GET `url`, in milliseconds, each answer checked."""
    walls = []
    for _ in range(R):
        t0 = time.perf_counter()
        r = client.get(url)
        walls.append(time.perf_counter() - t0)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return statistics.median(walls) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SAGEFORGE_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("SAGEFORGE_URL", None)
        from sageforge.sdk import Session
        from sageforge.sdk._local_server import stop_server

        session = Session()
        try:
            url = session.upload_bytes(
                b"a,b,c\n" + b"".join(f"{i},{i * 2},x{i % 7}\n".encode() for i in range(200)),
                "bench/small.csv",
            )
            t0 = time.perf_counter()
            for i in range(N):
                session.api.post("/datasets", {"dataset_name": f"ds-{i:05d}", "source_url": url})
            print(f"registered {N} datasets in {time.perf_counter() - t0:.1f}s")
            last = (N + 49) // 50
            with httpx.Client(base_url=session.url, trust_env=False, timeout=60) as web:
                for path in ("/", "/data", "/api/v1/datasets?max_results=50"):
                    web.get(path)  # warm: templates compiled, caches filled
                api = timed(web, "/api/v1/datasets?max_results=50")
                first = timed(web, "/data")
                last_page = timed(web, f"/data?page={last}")
                home = timed(web, "/")
                dataset = timed(web, "/data/ds-00042")
        finally:
            session.close()
            stop_server(session.settings)

    print(f"{N} datasets, medians of {R} requests")
    print(f"  JSON list of 50 (the API, baseline)  {api:8.1f} ms")
    print(f"  Data list page 1 (50 rows)           {first:8.1f} ms  ({first / api:.2f}x)")
    print(
        f"  Data list page {last} (last)             {last_page:8.1f} ms  ({last_page / api:.2f}x)"
    )
    print(f"  Home (counts, recent activity)       {home:8.1f} ms")
    print(f"  a dataset's page (preview, schema)   {dataset:8.1f} ms")
    print(f"RESULT studio_list_page_ms {first:.1f}")
    print(f"RESULT studio_list_page_vs_api {first / api:.2f}")
    print(f"RESULT studio_last_page_vs_api {last_page / api:.2f}")


if __name__ == "__main__":
    main()
