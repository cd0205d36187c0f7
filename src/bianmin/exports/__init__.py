"""导出任务: exports of large ledgers run in the background, with progress, for their requester."""
