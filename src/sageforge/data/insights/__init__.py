"""The Data Quality and Insights report: statistics, warnings, leakage, a quick model.

```python
from sageforge.data.insights import build_report, render_html
report = build_report(frame, target="churn")       # a JSON-able dict
html = render_html(report)                          # one self-contained page
```
"""

from sageforge.data.insights._html import render_html
from sageforge.data.insights._report import build_report
from sageforge.data.insights._target import LEAK_SCORE, problem_type

__all__ = ["LEAK_SCORE", "build_report", "problem_type", "render_html"]
