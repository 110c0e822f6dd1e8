import { useEffect, useState } from "react";

/**
 * Gives focus back to the control that opened a dialog when the dialog is unmounted while
 * open. antd returns focus only when `open` turns false; a page that mounts a dialog only
 * while it is needed would otherwise leave a keyboard user at the top of the page.
 */
export function useReturnFocus(open: boolean) {
  // Read during the first render, before the dialog takes focus.
  const [opener] = useState(() => (open ? document.activeElement : null));
  useEffect(
    () => () => {
      // Only when focus went down with the dialog and the opener is still on the page.
      const lost = document.activeElement === null || document.activeElement === document.body;
      if (lost && opener instanceof HTMLElement && opener.isConnected) opener.focus();
    },
    [opener],
  );
}
