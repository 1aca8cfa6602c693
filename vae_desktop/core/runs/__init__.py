"""Run folders: the one on-disk form of a training run, written by every trainer and followed live.

Modules, one job each:
  schema      run.json and metrics.jsonl records (versioned; docs/run-folder.md)
  lines       fast parsing of many metrics.jsonl lines at once
  thinning    which batch rows a long run writes (a stride that doubles)
  heartbeat   the daemon thread that proves a writer is alive
  writer      RunWriter: creates and fills a run folder
  run_files   how the writer writes metrics.jsonl (whole lines), run.json and metrics.csv
  checkpoint_files  latest/best/kept checkpoints put in place (atomic, hard links)
  continuing  what a run continued in its folder starts from
  source      file access for readers: local folders (SftpSource in sftp_source, optional)
  address     user@host:/path and ssh:// addresses
  tail        MetricsTail: complete new lines of metrics.jsonl, tolerant of replaced files
  state       RunState: run.json read tolerantly, stalled/finished/failed derived
  checkpoint_watch  CheckpointWatch: the newest complete checkpoint, fetched only when it changed
  follower    RunFollower.poll(): one plain-data RunUpdate for a GUI thread to emit
  history     RunHistory: applies updates into whole batch/epoch history
  opening     open_run() and what a dropped path is (run folder, checkpoint, folder with no run yet, neither)
  copying     copy_run (Save as a folder) and fetch_run (a run from any source into a new run folder)
"""
