import { Button, Result } from "antd";
import { Component } from "react";
import type { ErrorInfo, ReactNode } from "react";
import { t } from "../i18n";

interface State {
  error: Error | null;
}

/** A page that throws while rendering shows what went wrong instead of a blank window. */
export default class PageErrorBoundary extends Component<{ children: ReactNode }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error("page failed to render", error, info.componentStack);
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <Result
        status="error"
        title={t("app.pageCrashed")}
        subTitle={this.state.error.message}
        data-testid="page-crashed"
        extra={
          <Button type="primary" onClick={() => this.setState({ error: null })}>
            {t("app.pageRetry")}
          </Button>
        }
      />
    );
  }
}
