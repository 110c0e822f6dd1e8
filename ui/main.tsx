import { ConfigProvider } from "antd";
import enUS from "antd/locale/en_US";
import "antd/dist/reset.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import App from "./App";
import { setLocale } from "./i18n";

setLocale(navigator.language);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ConfigProvider locale={enUS} theme={{ token: { borderRadius: 4 } }}>
      <App />
    </ConfigProvider>
  </StrictMode>,
);
