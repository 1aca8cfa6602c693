"""Following a run another process writes (a headless `vae-desktop train`, a remote server), live.

  news      plain-data messages the worker thread sends (history, new rows, a loaded model)
  worker    FollowWorker: drives core.runs.RunFollower.poll() and loads checkpoints, off the GUI thread
  banner    FollowBanner: the "Following <name> on <host>: ..." strip with Continue here / Stop following
  follower  FollowController: starts and stops following, feeds the plots and the ModelMirror
  continuing  RemoteContinuation: Continue here for a run followed over SSH (copied here first)
  wiring    attach_following (File-menu actions, dialogs) and open_path (what a path given or dropped is)
  drops     the window's drag-and-drop handlers' helpers
"""
