import { Tag } from "antd";
import type { ReplicationState, TaskStatus } from "../../api/tasks";
import { t } from "../../i18n";
import { formatTime } from "../../units";

const COLOR: Record<ReplicationState, string> = {
  unstarted: "default",
  catchup: "processing",
  streaming: "success",
  disconnect: "error",
  finish: "default",
};

/** The task's replication state; a disconnect or catch-up says since when (an hour-old
 * disconnect is a different matter from a second-old one). */
export default function ReplicationTag({ task, testId }: { task: TaskStatus; testId: string }) {
  const word = t(`tasks.replication.${task.replication}`);
  const since = task.replication_since && (task.replication === "disconnect" || task.replication === "catchup");
  return (
    <Tag color={COLOR[task.replication]} data-testid={testId}>
      {since ? t("tasks.replication.since", { state: word, time: formatTime(task.replication_since!) }) : word}
    </Tag>
  );
}
