<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="pt_BR">
<context>
    <name>AddContactDialog</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="57"/>
        <source>Add contact</source>
        <translation>Adicionar contato</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="60"/>
        <source>Enter the ID of the person you want to add.</source>
        <translation>Digite o ID da pessoa que você quer adicionar.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="64"/>
        <source>e.g. K7QM-4XPA</source>
        <translation>ex.: K7QM-4XPA</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="69"/>
        <source>Look up</source>
        <translation>Procurar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="75"/>
        <source>An ID has 8 letters and digits, like K7QM-4XPA.</source>
        <translation>Um ID tem 8 letras e números, como K7QM-4XPA.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="107"/>
        <source>Add</source>
        <translation>Adicionar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="110"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="174"/>
        <source>This is not an ID. An ID looks like K7QM-4XPA.</source>
        <translation>Isso não é um ID. Um ID é assim: K7QM-4XPA.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="179"/>
        <source>That&apos;s your own ID.</source>
        <translation>Esse é o seu próprio ID.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="182"/>
        <source>%1 is already one of your contacts.</source>
        <translation>%1 já está nos seus contatos.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="185"/>
        <source>Looking up %1…</source>
        <translation>Procurando %1…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/add_contact.py" line="209"/>
        <source>Found: %1</source>
        <translation>Encontrado: %1</translation>
    </message>
</context>
<context>
    <name>AppController</name>
    <message>
        <location filename="../../messenger_gui/app.py" line="336"/>
        <location filename="../../messenger_gui/app.py" line="603"/>
        <source>Retry now</source>
        <translation>Tentar agora</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="366"/>
        <source>Keep running in the tray when closed</source>
        <translation>Continuar na bandeja ao fechar a janela</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="414"/>
        <source>Your ID %1 is copied: paste it to whoever wants to add you.</source>
        <translation>Seu ID %1 foi copiado: cole para quem quiser adicionar você.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="449"/>
        <source>This message is being sent and cannot be deleted.</source>
        <translation>Esta mensagem está sendo enviada e não pode ser apagada.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="459"/>
        <source>Message not sent</source>
        <translation>Mensagem não enviada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="519"/>
        <source>Messenger</source>
        <translation>Messenger</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="544"/>
        <source>Message not sent: %1</source>
        <translation>Mensagem não enviada: %1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="575"/>
        <source>Online</source>
        <translation>Conectado</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="577"/>
        <source>Connecting…</source>
        <translation>Conectando…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="581"/>
        <source>Offline — retrying…</source>
        <translation>Sem conexão — tentando de novo…</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/app.py" line="582"/>
        <source>Offline — retrying in %n s</source>
        <translation>
            <numerusform>Sem conexão — nova tentativa em %n s</numerusform>
            <numerusform>Sem conexão — nova tentativa em %n s</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="586"/>
        <source>Account disabled by the server&apos;s administrator</source>
        <translation>Conta desativada pelo administrador do servidor</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="588"/>
        <source>The server does not know this identity (was it reset?)</source>
        <translation>O servidor não conhece esta identidade (ele foi reiniciado do zero?)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="590"/>
        <source>Server certificate not trusted</source>
        <translation>Certificado do servidor não confiável</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="591"/>
        <source>Credential refused</source>
        <translation>Credencial recusada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="593"/>
        <source>Signed in elsewhere</source>
        <translation>Conectado em outro lugar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="594"/>
        <source>Offline</source>
        <translation>Sem conexão</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="599"/>
        <source>Use here</source>
        <translation>Usar aqui</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="601"/>
        <source>Try again</source>
        <translation>Tentar de novo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="634"/>
        <source>%1 is now a contact.</source>
        <translation>%1 agora é um contato.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="643"/>
        <source>Block %1?</source>
        <translation>Bloquear %1?</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="646"/>
        <source>%1 will not be in your chats and their messages will not notify you. Adding them as a contact later unblocks them.</source>
        <translation>%1 não vai aparecer nas suas conversas e as mensagens dessa pessoa não vão notificar você. Adicioná-la como contato depois a desbloqueia.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="655"/>
        <source>Block</source>
        <translation>Bloquear</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="688"/>
        <source>%1 in %2</source>
        <translation>%1 em %2</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/app.py" line="693"/>
        <source>%n new message(s)</source>
        <translation>
            <numerusform>%n nova mensagem</numerusform>
            <numerusform>%n novas mensagens</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="866"/>
        <source>Export chat</source>
        <translation>Exportar conversa</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="873"/>
        <source>Web page (*.html)</source>
        <translation>Página da web (*.html)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="873"/>
        <source>JSON (*.json)</source>
        <translation>JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="898"/>
        <source>Export failed</source>
        <translation>Falha ao exportar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="898"/>
        <source>Could not write %1.</source>
        <translation>Não foi possível gravar %1.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/app.py" line="901"/>
        <source>Chat exported to %1</source>
        <translation>Conversa exportada para %1</translation>
    </message>
</context>
<context>
    <name>BubbleDelegate</name>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1123"/>
        <source>Not sent</source>
        <translation>Não enviada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1311"/>
        <source>1 new message</source>
        <translation>1 nova mensagem</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1313"/>
        <source>%1 new messages</source>
        <translation>%1 novas mensagens</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="147"/>
        <source>Delivered to %1 of %2</source>
        <translation>Entregue a %1 de %2</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="148"/>
        <source>Read by %1 of %2</source>
        <translation>Lida por %1 de %2</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="869"/>
        <source>Not sent: %1</source>
        <translation>Não enviada: %1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="872"/>
        <source>Click the red mark to retry, or right-click to delete.</source>
        <translation>Clique na marca vermelha para tentar de novo, ou com o botão direito para apagar.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="880"/>
        <location filename="../../messenger_gui/ui/chat.py" line="1797"/>
        <source>You</source>
        <translation>Você</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="886"/>
        <source>Not sent</source>
        <translation>Não enviada</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1492"/>
        <source>Scroll to the newest message</source>
        <translation>Ir para a mensagem mais recente</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1819"/>
        <source>Copy text</source>
        <translation>Copiar texto</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1823"/>
        <source>Select text…</source>
        <translation>Selecionar texto…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1827"/>
        <source>Copy link</source>
        <translation>Copiar link</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1840"/>
        <source>Retry</source>
        <translation>Tentar de novo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="1843"/>
        <source>Delete</source>
        <translation>Apagar</translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="88"/>
        <source>Write a message…</source>
        <translation>Escreva uma mensagem…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="89"/>
        <source>Message</source>
        <translation>Mensagem</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="109"/>
        <location filename="../../messenger_gui/ui/composer.py" line="191"/>
        <source>Send (Enter)</source>
        <translation>Enviar (Enter)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="110"/>
        <source>Send</source>
        <translation>Enviar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="179"/>
        <source>%1 / %2 bytes</source>
        <translation>%1 / %2 bytes</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/composer.py" line="191"/>
        <source>The message is too long</source>
        <translation>A mensagem é longa demais</translation>
    </message>
</context>
<context>
    <name>ConversationDelegate</name>
    <message>
        <location filename="../../messenger_gui/ui/conversations.py" line="173"/>
        <source>%1 unread</source>
        <translation>%1 não lidas</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/conversations.py" line="217"/>
        <source>You: </source>
        <translation>Você: </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/conversations.py" line="221"/>
        <source>Draft: </source>
        <translation>Rascunho: </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/conversations.py" line="228"/>
        <source>Group created</source>
        <translation>Grupo criado</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/conversations.py" line="229"/>
        <source>No messages yet</source>
        <translation>Nenhuma mensagem ainda</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="163"/>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="179"/>
        <source>Cannot reach the server. Check the address and that the server is running.</source>
        <translation>Não foi possível alcançar o servidor. Confira o endereço e se o servidor está no ar.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="17"/>
        <source>You are offline. Try again when Messenger is connected.</source>
        <translation>Você está sem conexão. Tente de novo quando o Messenger estiver conectado.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="20"/>
        <source>There is no one with this ID on the server.</source>
        <translation>Não há ninguém com esse ID no servidor.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="23"/>
        <source>This server does not accept new registrations.</source>
        <translation>Este servidor não aceita novos cadastros.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="26"/>
        <source>The name is too long.</source>
        <translation>O nome é longo demais.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="27"/>
        <source>The message is longer than this server accepts.</source>
        <translation>A mensagem é mais longa do que este servidor aceita.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="30"/>
        <source>The server did not accept this value.</source>
        <translation>O servidor não aceitou esse valor.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="33"/>
        <source>Only group admins can do this.</source>
        <translation>Só administradores do grupo podem fazer isso.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="36"/>
        <source>You are not a member of this group any more.</source>
        <translation>Você não faz mais parte deste grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="39"/>
        <source>This person is already in the group.</source>
        <translation>Essa pessoa já está no grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="42"/>
        <source>The group is full.</source>
        <translation>O grupo está cheio.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="43"/>
        <source>This group does not exist any more.</source>
        <translation>Este grupo não existe mais.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="46"/>
        <source>Too many requests. Wait a moment and try again.</source>
        <translation>Muitas solicitações. Espere um pouco e tente de novo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="49"/>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="177"/>
        <source>The server did not answer in time.</source>
        <translation>O servidor não respondeu a tempo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="52"/>
        <source>The server is restarting. Try again in a moment.</source>
        <translation>O servidor está reiniciando. Tente de novo daqui a pouco.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="55"/>
        <source>The server refused this identity.</source>
        <translation>O servidor recusou esta identidade.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="58"/>
        <source>This identity was disabled by the administrator.</source>
        <translation>Esta identidade foi desativada pelo administrador.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="61"/>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="70"/>
        <source>The server did not understand the app. Update Messenger.</source>
        <translation>O servidor não entendeu o aplicativo. Atualize o Messenger.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="64"/>
        <source>This was too large to send to the server.</source>
        <translation>Isto é grande demais para enviar ao servidor.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="67"/>
        <source>This server needs another version of Messenger. Update the app.</source>
        <translation>Este servidor precisa de outra versão do Messenger. Atualize o aplicativo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="73"/>
        <source>You are not signed in yet. Try again in a moment.</source>
        <translation>Você ainda não entrou. Tente de novo em instantes.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="76"/>
        <source>You are already signed in on this connection.</source>
        <translation>Você já entrou nesta conexão.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="79"/>
        <source>This server only accepts new people with an invite code. Ask its administrator for one.</source>
        <translation>Este servidor só aceita novas pessoas com um código de convite. Peça um ao administrador.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="84"/>
        <source>This invite code is not valid: it may be mistyped, used up or expired. Check it or ask the administrator for a new one.</source>
        <translation>Este código de convite não é válido: pode estar digitado errado, esgotado ou vencido. Confira-o ou peça um novo ao administrador.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="89"/>
        <source>Too many connections from your network to this server. Messenger tries again in a moment.</source>
        <translation>Conexões demais da sua rede com este servidor. O Messenger tenta de novo em instantes.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="94"/>
        <source>You or someone you chose is already in as many groups as this server allows.</source>
        <translation>Você ou alguém que você escolheu já está no máximo de grupos que este servidor permite.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="97"/>
        <source>Someone you chose has not added you as a contact. They must add you before you can put them in a group.</source>
        <translation>Alguém que você escolheu não adicionou você como contato. A pessoa precisa adicionar você antes que você a coloque em um grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="102"/>
        <source>Too many messages are waiting for this person on the server. Yours is sent when they have caught up.</source>
        <translation>Há mensagens demais esperando por esta pessoa no servidor. A sua será enviada quando ela as receber.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="107"/>
        <source>Too many of your messages are waiting on the server for their recipients. They are sent when those have caught up.</source>
        <translation>Há mensagens suas demais esperando no servidor pelos destinatários. Elas serão enviadas quando eles as receberem.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="112"/>
        <source>The server is running out of disk space. Messages wait here and are sent when it has room again.</source>
        <translation>O servidor está ficando sem espaço em disco. As mensagens esperam aqui e serão enviadas quando houver espaço de novo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="117"/>
        <source>That message is no longer on the server: this cannot be done any more.</source>
        <translation>Essa mensagem não está mais no servidor: isto não pode mais ser feito.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="120"/>
        <source>That message was deleted.</source>
        <translation>Essa mensagem foi apagada.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="123"/>
        <source>Only the person who wrote that message can do this.</source>
        <translation>Só quem escreveu essa mensagem pode fazer isto.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="126"/>
        <source>It is too late to edit that message.</source>
        <translation>É tarde demais para editar essa mensagem.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="129"/>
        <source>A group needs an admin. Make someone else admin first.</source>
        <translation>Um grupo precisa de um administrador. Torne outra pessoa administradora primeiro.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="132"/>
        <source>This identity signed in from another place, so this app was disconnected.</source>
        <translation>Esta identidade entrou em outro lugar, por isso este aplicativo foi desconectado.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="135"/>
        <source>The connection was too slow, so the server closed it. Messenger reconnects.</source>
        <translation>A conexão estava lenta demais e o servidor a fechou. O Messenger se reconecta.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="138"/>
        <source>The server had a problem. Try again in a moment.</source>
        <translation>O servidor teve um problema. Tente de novo em instantes.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="141"/>
        <source>The server&apos;s certificate is not trusted. Ask its administrator.</source>
        <translation>O certificado do servidor não é confiável. Fale com o administrador.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="144"/>
        <source>The server&apos;s certificate changed since the first connection. Ask its administrator before connecting again.</source>
        <translation>O certificado do servidor mudou desde a primeira conexão. Fale com o administrador antes de conectar de novo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="171"/>
        <source>The secure connection failed. Check whether this server uses TLS and that its certificate is trusted.</source>
        <translation>A conexão segura falhou. Confira se este servidor usa TLS e se o certificado dele é confiável.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/chat.py" line="138"/>
        <location filename="../../messenger_gui/ui/dialogs/errors.py" line="184"/>
        <source>Something went wrong: %1</source>
        <translation>Algo deu errado: %1</translation>
    </message>
</context>
<context>
    <name>Formatting</name>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="61"/>
        <source>Today</source>
        <translation>Hoje</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="63"/>
        <source>Yesterday</source>
        <translation>Ontem</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="66"/>
        <source>dddd, d MMMM</source>
        <translation>dddd, d &apos;de&apos; MMMM</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/formatting.py" line="67"/>
        <source>d MMMM yyyy</source>
        <translation>d &apos;de&apos; MMMM &apos;de&apos; yyyy</translation>
    </message>
</context>
<context>
    <name>GroupInfoDialog</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="115"/>
        <source>Remove from group</source>
        <translation>Remover do grupo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="128"/>
        <source>Add</source>
        <translation>Adicionar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="133"/>
        <source>Add a contact:</source>
        <translation>Adicionar um contato:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="150"/>
        <source>You are no longer a member of this group.</source>
        <translation>Você não faz mais parte deste grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="152"/>
        <source>Leave group</source>
        <translation>Sair do grupo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="155"/>
        <source>Close</source>
        <translation>Fechar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="204"/>
        <source>Group info — %1</source>
        <translation>Dados do grupo — %1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="215"/>
        <source>Group ID: %1</source>
        <translation>ID do grupo: %1</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="216"/>
        <source>%n member(s)</source>
        <translation>
            <numerusform>%n participante</numerusform>
            <numerusform>%n participantes</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="225"/>
        <source>You</source>
        <translation>Você</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="226"/>
        <source>admin</source>
        <translation>admin</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="123"/>
        <source>All your contacts are members</source>
        <translation>Todos os seus contatos já participam</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="296"/>
        <source>Leave group?</source>
        <translation>Sair do grupo?</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="299"/>
        <source>Leave “%1”? You will stop receiving its messages; the history stays on this computer.</source>
        <translation>Sair de “%1”? Você deixará de receber as mensagens dele; o histórico continua neste computador.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/group_info.py" line="308"/>
        <source>Leave</source>
        <translation>Sair</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="185"/>
        <source>Messenger</source>
        <translation>Messenger</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="227"/>
        <source>Add contact…</source>
        <translation>Adicionar contato…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="230"/>
        <source>New group…</source>
        <translation>Novo grupo…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="233"/>
        <source>Search messages…</source>
        <translation>Pesquisar mensagens…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="235"/>
        <location filename="../../messenger_gui/ui/main_window.py" line="321"/>
        <location filename="../../messenger_gui/ui/main_window.py" line="400"/>
        <source>Copy my ID</source>
        <translation>Copiar meu ID</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="237"/>
        <source>Export chat as HTML…</source>
        <translation>Exportar conversa como HTML…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="240"/>
        <source>Export chat as JSON…</source>
        <translation>Exportar conversa como JSON…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="243"/>
        <source>Group info…</source>
        <translation>Dados do grupo…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="246"/>
        <location filename="../../messenger_gui/ui/main_window.py" line="469"/>
        <source>Add to contacts</source>
        <translation>Adicionar aos contatos</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="248"/>
        <source>Block…</source>
        <translation>Bloquear…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="249"/>
        <source>Quit</source>
        <translation>Sair</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="302"/>
        <source>Menu</source>
        <translation>Menu</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="330"/>
        <location filename="../../messenger_gui/ui/main_window.py" line="332"/>
        <source>Filter chats</source>
        <translation>Filtrar conversas</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="344"/>
        <source>Chats</source>
        <translation>Conversas</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="363"/>
        <source>No chats yet.
Add a contact with Ctrl+N to start.</source>
        <translation>Nenhuma conversa ainda.
Adicione um contato com Ctrl+N para começar.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="382"/>
        <source>Select a chat to start messaging</source>
        <translation>Escolha uma conversa para começar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="395"/>
        <source>Your ID is %1. Share it so people can add you.</source>
        <translation>Seu ID é %1. Compartilhe para que as pessoas possam adicionar você.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="403"/>
        <source>Add contact</source>
        <translation>Adicionar contato</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="440"/>
        <source>Search messages</source>
        <translation>Pesquisar mensagens</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="443"/>
        <source>Chat info</source>
        <translation>Dados da conversa</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="452"/>
        <source>Messages</source>
        <translation>Mensagens</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="466"/>
        <source>Block</source>
        <translation>Bloquear</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="488"/>
        <source>Offline</source>
        <translation>Sem conexão</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="771"/>
        <source>Receiving %1 of %2…</source>
        <translation>Recebendo %1 de %2…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="845"/>
        <source>No messages here yet</source>
        <translation>Ainda não há mensagens aqui</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="846"/>
        <source>Say hi to the group!</source>
        <translation>Diga oi ao grupo!</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="846"/>
        <source>Say hi to %1!</source>
        <translation>Diga oi para %1!</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="900"/>
        <source>%1 is not in your contacts.</source>
        <translation>%1 não está nos seus contatos.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="869"/>
        <source>You</source>
        <translation>Você</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="875"/>
        <source>1 member</source>
        <translation>1 participante</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="877"/>
        <source>%1 members</source>
        <translation>%1 participantes</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="883"/>
        <source>You are no longer a member of this group.</source>
        <translation>Você não faz mais parte deste grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/main_window.py" line="891"/>
        <source>ID %1</source>
        <translation>ID %1</translation>
    </message>
</context>
<context>
    <name>NewGroupDialog</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="38"/>
        <source>New group</source>
        <translation>Novo grupo</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="45"/>
        <source>e.g. Family</source>
        <translation>ex.: Família</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="46"/>
        <source>Group name:</source>
        <translation>Nome do grupo:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="58"/>
        <source>Search contacts</source>
        <translation>Pesquisar contatos</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="77"/>
        <source>You have no contacts yet. Add a contact first, then create a group.</source>
        <translation>Você ainda não tem contatos. Adicione um contato primeiro e depois crie o grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="92"/>
        <source>Create</source>
        <translation>Criar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="95"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="103"/>
        <source>Members:</source>
        <translation>Participantes:</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="158"/>
        <source>%n member(s) selected</source>
        <translation>
            <numerusform>%n participante selecionado</numerusform>
            <numerusform>%n participantes selecionados</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="158"/>
        <source>No one selected</source>
        <translation>Ninguém selecionado</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="170"/>
        <source>Give the group a name.</source>
        <translation>Dê um nome ao grupo.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/new_group.py" line="173"/>
        <source>Choose at least one member.</source>
        <translation>Escolha pelo menos um participante.</translation>
    </message>
</context>
<context>
    <name>SearchDialog</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="180"/>
        <source>Search messages</source>
        <translation>Pesquisar mensagens</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="184"/>
        <source>Search all conversations</source>
        <translation>Pesquisar em todas as conversas</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="195"/>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="222"/>
        <source>Type a word or part of one.</source>
        <translation>Digite uma palavra ou parte dela.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="235"/>
        <source>You</source>
        <translation>Você</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="254"/>
        <source>Many messages match: showing the newest %1. Type more to narrow.</source>
        <translation>Muitas mensagens combinam: mostrando as %1 mais recentes. Digite mais para refinar.</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="260"/>
        <source>%n message(s) found</source>
        <translation>
            <numerusform>%n mensagem encontrada</numerusform>
            <numerusform>%n mensagens encontradas</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/search.py" line="262"/>
        <source>No messages found.</source>
        <translation>Nenhuma mensagem encontrada.</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../../messenger_gui/ui/tray.py" line="58"/>
        <source>Show Messenger</source>
        <translation>Mostrar o Messenger</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/tray.py" line="59"/>
        <source>Quit</source>
        <translation>Sair</translation>
    </message>
    <message numerus="yes">
        <location filename="../../messenger_gui/ui/tray.py" line="88"/>
        <source>Messenger — %n unread message(s)</source>
        <translation>
            <numerusform>Messenger — %n mensagem não lida</numerusform>
            <numerusform>Messenger — %n mensagens não lidas</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/tray.py" line="90"/>
        <source>Messenger — offline</source>
        <translation>Messenger — sem conexão</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/tray.py" line="91"/>
        <source>Messenger</source>
        <translation>Messenger</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/tray.py" line="152"/>
        <source>Messenger is still running</source>
        <translation>O Messenger continua aberto</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/tray.py" line="154"/>
        <source>You will be notified of new messages. To quit, choose Quit from the tray icon&apos;s menu.</source>
        <translation>Você será avisado de novas mensagens. Para fechar de vez, escolha Sair no menu do ícone da bandeja.</translation>
    </message>
</context>
<context>
    <name>WelcomeDialog</name>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="107"/>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="129"/>
        <source>Welcome to Messenger</source>
        <translation>Boas-vindas ao Messenger</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="136"/>
        <source>Choose the name others will see. You get an ID that friends use to add you as a contact.</source>
        <translation>Escolha o nome que os outros vão ver. Você recebe um ID que seus amigos usam para adicionar você como contato.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="155"/>
        <source>e.g. Maria Silva</source>
        <translation>ex.: Maria Silva</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="157"/>
        <source>host:port</source>
        <translation>servidor:porta</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="158"/>
        <source>Use a secure connection (TLS)</source>
        <translation>Usar conexão segura (TLS)</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="163"/>
        <source>e.g. 7KQM-4XPA-B8NZ</source>
        <translation>ex.: 7KQM-4XPA-B8NZ</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="165"/>
        <source>Invite code:</source>
        <translation>Código de convite:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="167"/>
        <source>I have an invite code</source>
        <translation>Tenho um código de convite</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="184"/>
        <source>Your name:</source>
        <translation>Seu nome:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="185"/>
        <source>Server:</source>
        <translation>Servidor:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="200"/>
        <source>Register</source>
        <translation>Cadastrar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="202"/>
        <source>Quit</source>
        <translation>Sair</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="245"/>
        <source>Enter a name of 1 to %1 characters.</source>
        <translation>Digite um nome de 1 a %1 caracteres.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="249"/>
        <source>Enter the server as host:port, e.g. chat.example.org:7850.</source>
        <translation>Digite o servidor como endereço:porta, ex.: chat.exemplo.com.br:7850.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="256"/>
        <source>An invite code has 12 letters and digits, e.g. 7KQM-4XPA-B8NZ.</source>
        <translation>Um código de convite tem 12 letras e números, ex.: 7KQM-4XPA-B8NZ.</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="264"/>
        <source>Registering with %1…</source>
        <translation>Cadastrando em %1…</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="337"/>
        <source>This is your ID. Share it with the people you want to chat with:</source>
        <translation>Este é o seu ID. Compartilhe com as pessoas com quem você quer conversar:</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="351"/>
        <source>Copy ID</source>
        <translation>Copiar ID</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="378"/>
        <source>Continue</source>
        <translation>Continuar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="414"/>
        <source>The server&apos;s certificate was pinned. Its SHA-256 fingerprint, to compare with your administrator&apos;s:
%1</source>
        <translation>O certificado do servidor foi fixado. A impressão digital SHA-256 dele, para comparar com a do seu administrador:
%1</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="420"/>
        <source>You&apos;re all set, %1!</source>
        <translation>Tudo pronto, %1!</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="358"/>
        <location filename="../../messenger_gui/ui/dialogs/welcome.py" line="436"/>
        <source>Copied</source>
        <translation>Copiado</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <location filename="../../messenger_gui/__main__.py" line="191"/>
        <source>Messenger cannot start</source>
        <translation>O Messenger não pode iniciar</translation>
    </message>
    <message>
        <location filename="../../messenger_gui/__main__.py" line="192"/>
        <source>The profile in %1 cannot be opened:
%2</source>
        <translation>O perfil em %1 não pode ser aberto:
%2</translation>
    </message>
</context>
</TS>
